"""The notifications page (`/notifications`), its mark-read forms, and the header's bell fragment."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Query, Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.auth.identity import CurrentUser, authorize
from portal.db import SessionDep
from portal.notifications import service
from portal.notifications.api import MAX_ID, READ_ACTION, UPDATE_ACTION, page_json, recipient_of

router = APIRouter(tags=["pages"], include_in_schema=False)


def _render(http: HttpRequest, template: str, context: dict, status: int = 200) -> HTMLResponse:
    return http.app.state.templates.TemplateResponse(http, template, context, status_code=status)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(http: HttpRequest, session: SessionDep, user: CurrentUser,
                       unread: bool = Query(False), before: int | None = Query(None, ge=1, le=MAX_ID)) -> Response:
    """The caller's notifications, newest first, unread ones marked."""
    authorize(http, user, READ_ACTION)
    page = service.list_notifications(session, recipient_of(user), before=before, unread_only=unread)
    return _render(http, "notifications/notifications_page.html", {
        "page": page, "items": page_json(page)["items"], "unread_only": unread,
        "next_url": f"/notifications?before={page.next_before}{'&unread=true' if unread else ''}"
        if page.next_before else None,
    })


@router.post("/notifications/read")
def mark_read_form(http: HttpRequest, session: SessionDep, user: CurrentUser,
                   id: str = Form("", max_length=12), all: str = Form("", max_length=5)) -> Response:
    """Mark one notification (`id`) or all (`all=1`) read, then back to the page."""
    authorize(http, user, UPDATE_ACTION)
    if all:
        service.mark_read(session, recipient_of(user))
    elif id.isascii() and id.isdigit() and 0 < int(id) <= MAX_ID:
        service.mark_read(session, recipient_of(user), [int(id)])
    else:
        raise HTTPException(422, "Say which notification to mark read (its id), or mark all of them read")
    return RedirectResponse("/notifications", status_code=303)


@router.get("/notifications/bell", response_class=HTMLResponse)
def bell_fragment(http: HttpRequest, user: CurrentUser) -> Response:
    """The header's bell alone, for HTMX to refresh the unread count."""
    return _render(http, "notifications/_bell.html", {})
