"""Creating, checking, listing and revoking API tokens.

A token reads `fpt_<prefix>_<secret>`: the prefix finds the row, the secret (32 random bytes) is
compared by its SHA-256 in constant time. A slow password hash buys nothing for 256 random bits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from portal.auth.token_models import TOKEN_KINDS, TOKEN_SCOPES, ApiToken

TOKEN_PATTERN = re.compile(r"^fpt_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
MAX_LIFETIME = timedelta(days=366)
DEFAULT_LIFETIME = timedelta(days=90)
# Recording every use would turn each API read into a write; once a minute is enough to see use.
LAST_USE_RESOLUTION = timedelta(minutes=1)
_NAME = re.compile(r"^[\w .:@/-]{1,100}$")


class TokenError(ValueError):
    """A token that cannot be created or used; the message is for the caller."""


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    token: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> tuple[str, ...]:
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    unknown = [p for p in parts if p not in TOKEN_SCOPES]
    if unknown or not parts:
        raise TokenError(f"scopes must be one or more of {', '.join(TOKEN_SCOPES)}")
    return tuple(s for s in TOKEN_SCOPES if s in parts)


def parse_lifetime(text: str) -> timedelta:
    """`90d`, `12h`, `1y` (a year is 366 days here, the longest a token may live)."""
    match = re.fullmatch(r"(\d{1,4})([hdy])", text.strip())
    if not match:
        raise TokenError(f"expiry {text!r} is not like 90d, 12h or 1y")
    amount, unit = int(match[1]), match[2]
    lifetime = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "y": timedelta(days=366 * amount)}[unit]
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise TokenError("a token must expire within a year")
    return lifetime


def issue_token(session: Session, *, kind: str, subject_ref: str, name: str, scopes: tuple[str, ...],
                created_by: str, lifetime: timedelta = DEFAULT_LIFETIME) -> IssuedToken:
    if kind not in TOKEN_KINDS:
        raise TokenError(f"kind must be one of {', '.join(TOKEN_KINDS)}")
    if not _NAME.match(name or ""):
        raise TokenError("name must be 1–100 letters, digits, spaces or . : @ / _ -")
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise TokenError("a token must expire within a year")
    prefix = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = ApiToken(prefix=prefix, secret_hash=_hash(secret), name=name, kind=kind, subject_ref=subject_ref.lower(),
                   scopes=",".join(scopes), created_at=now, created_by=created_by, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return IssuedToken(row, f"fpt_{prefix}_{secret}")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_token(session: Session, presented: str, client: str | None) -> ApiToken:
    """The token's row if it is valid now; TokenError saying why not. Records its use (the caller commits)."""
    match = TOKEN_PATTERN.match(presented.strip())
    if not match:
        raise TokenError("the bearer token is not a Flowport API token")
    row = session.execute(select(ApiToken).where(ApiToken.prefix == match[1])).scalar_one_or_none()
    # Compared even when no row was found, so timing does not tell which prefixes exist.
    expected = row.secret_hash if row else "0" * 64
    if not hmac.compare_digest(expected, _hash(match[2])) or row is None:
        raise TokenError("the bearer token is not valid")
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise TokenError(f"token {row.prefix} was revoked")
    if _aware(row.expires_at) <= now:
        raise TokenError(f"token {row.prefix} expired on {_aware(row.expires_at).date().isoformat()}")
    if row.last_used_at is None or now - _aware(row.last_used_at) >= LAST_USE_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == row.id)
                        .values(last_used_at=now, last_used_from=(client or "")[:100] or None))
    return row


def token_json(row: ApiToken) -> dict:
    def iso(value: datetime | None) -> str | None:
        return _aware(value).isoformat().replace("+00:00", "Z") if value else None

    return {"id": row.prefix, "name": row.name, "kind": row.kind, "subject": row.subject_ref,
            "scopes": row.scopes.split(","), "createdAt": iso(row.created_at), "createdBy": row.created_by,
            "expiresAt": iso(row.expires_at), "revokedAt": iso(row.revoked_at),
            "lastUsedAt": iso(row.last_used_at), "lastUsedFrom": row.last_used_from}


def list_tokens(session: Session, subject_ref: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if subject_ref:
        query = query.where(ApiToken.subject_ref == subject_ref.lower())
    return list(session.execute(query).scalars())


def find_token(session: Session, prefix: str) -> ApiToken | None:
    if len(prefix) > 20:
        return None
    return session.execute(select(ApiToken).where(ApiToken.prefix == prefix)).scalar_one_or_none()


def revoke_token(session: Session, prefix: str) -> ApiToken | None:
    row = find_token(session, prefix)
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return row
