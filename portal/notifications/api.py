"""/api/v1/notifications: the caller's own notifications, and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request as HttpRequest
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from sqlmodel import Session

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.db import SessionDep
from portal.notifications import service
from portal.requests.models import ANONYMOUS_ACTOR, PUBLIC_ID_PREFIX

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

READ_ACTION = "requests.notification.read"
# Marking read is a `requests.` action, so an API token with the `request` scope may do it.
UPDATE_ACTION = "requests.notification.update"
MAX_IDS = 500
MAX_ID = 2**31 - 1


def recipient_of(user: Identity) -> str:
    """Whose notifications the caller sees: only their own (anonymous callers have none)."""
    return user.user_ref or ANONYMOUS_ACTOR


class MarkRead(BaseModel):
    """Either `ids` (the caller's notifications to mark read) or `all: true`."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[Annotated[StrictInt, Field(ge=1, le=MAX_ID)]], Field(max_length=MAX_IDS)] | None = None
    all: StrictBool = False


def page_json(page: service.NotificationPage) -> dict:
    return {"items": [service.notification_json(row, f"{PUBLIC_ID_PREFIX}{row.request_id}") for row in page.items],
            "unread": page.unread,
            "pageInfo": {"nextBefore": page.next_before} if page.next_before else {}}


@router.get("")
def list_notifications(http: HttpRequest, session: SessionDep, user: CurrentUser,
                       unread: bool = Query(False, description="Only the unread ones"),
                       before: int | None = Query(None, ge=1, le=MAX_ID, description="pageInfo.nextBefore"),
                       limit: int = Query(service.PAGE_SIZE, ge=1, le=service.MAX_PAGE_SIZE)) -> dict:
    """The caller's notifications, newest first, with the unread count."""
    authorize(http, user, READ_ACTION)
    page = service.list_notifications(session, recipient_of(user), before=before, unread_only=unread, limit=limit)
    return page_json(page)


@router.post("/read")
def mark_notifications_read(body: MarkRead, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """Mark some (`ids`) or all (`all: true`) of the caller's notifications read; others' ids change nothing."""
    authorize(http, user, UPDATE_ACTION)
    if body.ids is None and not body.all:
        raise HTTPException(422, "Send ids (a list of notification ids) or all: true")
    recipient = recipient_of(user)
    marked = service.mark_read(session, recipient, None if body.all else body.ids)
    return {"marked": marked, "unread": service.unread_count(session, recipient)}


def unread_for(request: HttpRequest, identity: Identity | None) -> int | None:
    """The bell's count for the page header; None when there is nobody signed in or it cannot be read."""
    if identity is None or not identity.is_authenticated:
        return None
    try:
        with Session(request.app.state.engine) as session:
            return service.unread_count(session, identity.user_ref)
    except Exception:  # noqa: BLE001 - a page header must render even when the database is down
        return None

