"""How long a browser session lasts and how it ends everywhere at once.

The session itself is the signed cookie (Starlette's SessionMiddleware). It carries when the person
signed in and when they were last seen; `check_session()` ends it past the idle or the absolute
limit, and when the user signed out (anywhere) after this session began: sign-out records a
`revoked_before` time per user in the database, which every session of that user is checked against.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

SIGNED_IN_AT_KEY = "signed_in_at"
LAST_SEEN_KEY = "last_seen"
# Writing the cookie anew on every request would cost a Set-Cookie each; once a minute keeps the idle
# clock within a minute of the truth.
LAST_SEEN_RESOLUTION = 60.0


class SessionRevocation(SQLModel, table=True):
    """Sessions of this user that began before `revoked_before` are over (sign-out everywhere)."""

    __tablename__ = "session_revocations"

    user_ref: str = Field(primary_key=True, max_length=300)
    revoked_before: datetime


def start_session(session_data: dict) -> None:
    """Stamp a freshly signed-in session."""
    now = time.time()
    session_data[SIGNED_IN_AT_KEY] = now
    session_data[LAST_SEEN_KEY] = now


def session_refusal(session_data: dict, revoked_before: datetime | None, idle_seconds: float,
                    max_age_seconds: float, now: float | None = None) -> str | None:
    """Why this signed-in session is over, or None while it lasts."""
    now = time.time() if now is None else now
    signed_in_at, last_seen = session_data.get(SIGNED_IN_AT_KEY), session_data.get(LAST_SEEN_KEY)
    if not isinstance(signed_in_at, (int, float)) or not isinstance(last_seen, (int, float)):
        return "the session does not say when it began"
    if now - signed_in_at > max_age_seconds:
        return "the session reached its maximum age"
    if now - last_seen > idle_seconds:
        return "the session was idle too long"
    if revoked_before is not None and signed_in_at <= revoked_before.replace(tzinfo=UTC).timestamp():
        return "the user signed out everywhere"
    return None


def touch(session_data: dict, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if now - session_data.get(LAST_SEEN_KEY, 0) >= LAST_SEEN_RESOLUTION:
        session_data[LAST_SEEN_KEY] = now


def revoked_before(session: Session, user_ref: str) -> datetime | None:
    return session.execute(
        select(SessionRevocation.revoked_before).where(SessionRevocation.user_ref == user_ref)
    ).scalar_one_or_none()


def revoke_sessions(session: Session, user_ref: str) -> None:
    """End every session of this user that began until now (the caller commits)."""
    now = datetime.now(UTC)
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(SessionRevocation).values(user_ref=user_ref, revoked_before=now)
    session.execute(statement.on_conflict_do_update(index_elements=["user_ref"], set_={"revoked_before": now}))
