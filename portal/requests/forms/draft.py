"""The wizard's draft: what was typed on every page so far, carried in one sealed hidden field.

Sealed (encrypted and authenticated with a key derived from FLOWPORT_SECRET_KEY) rather than kept as
plain hidden fields, so that passwords typed on an earlier page are never written back into the HTML,
and nobody can edit another page's values by hand; kept in the page rather than in a table, so a
draft needs no storage, no clean-up and works on any replica. A draft expires after DRAFT_TTL_SECONDS.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

DRAFT_TTL_SECONDS = 24 * 3600
MAX_DRAFT_CHARS = 512 * 1024


class DraftError(ValueError):
    """A draft that is expired, tampered with or for another capability."""


@dataclass
class Draft:
    """Posted strings per field name, and which pages have been filled in."""

    capability: str
    raw: dict[str, list[str]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"flowport order draft\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(draft: Draft, secret_key: str) -> str:
    payload = json.dumps({"c": draft.capability, "r": draft.raw, "s": sorted(draft.seen)}, separators=(",", ":"))
    return _fernet(secret_key).encrypt(payload.encode()).decode()


def unseal(token: str, secret_key: str, capability: str) -> Draft:
    """The draft in `token`; DraftError when it cannot be trusted or belongs to another capability."""
    if len(token) > MAX_DRAFT_CHARS:
        raise DraftError("The form's saved values are too large; start the request again")
    try:
        payload = json.loads(_fernet(secret_key).decrypt(token.encode(), ttl=DRAFT_TTL_SECONDS))
    except (InvalidToken, ValueError, UnicodeError):
        raise DraftError("The form's saved values have expired or were changed; start the request again") from None
    raw = payload.get("r") if isinstance(payload, dict) else None
    if payload.get("c") != capability or not isinstance(raw, dict):
        raise DraftError("The form's saved values belong to another capability; start the request again")
    clean = {str(name): [str(value) for value in values] for name, values in raw.items() if isinstance(values, list)}
    seen = {index for index in payload.get("s", []) if isinstance(index, int)}
    return Draft(capability, clean, seen)
