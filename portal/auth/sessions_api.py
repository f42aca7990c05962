"""POST /api/v1/sessions/revoke: an admin ends every browser session of a user (a lost laptop, a leaver)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from portal.auth.identity import CurrentUser, authorize
from portal.auth.session_rules import revoke_sessions
from portal.db import SessionDep

router = APIRouter(prefix="/api/v1/sessions", tags=["auth"])


class SessionsRevoke(BaseModel):
    user: str = Field(max_length=300, pattern=r"^user:[a-z0-9._-]+/[a-z0-9._-]+$",
                      description="The user whose sessions end, e.g. user:default/alice")


@router.post("/revoke")
def revoke_user_sessions(body: SessionsRevoke, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """End every session of the user that began until now; API tokens are revoked separately."""
    authorize(request, user, "admin.sessions.revoke", body.user)
    revoke_sessions(session, body.user)
    return {"user": body.user, "revoked": True}
