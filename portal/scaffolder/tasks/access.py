"""Who may see and change a task: its creator, people who may see the request it fulfils, and admins.

Visibility is one SQL condition (lists, totals and single reads alike; unseen tasks are 404). Creating,
cancelling and retrying are `requests.*` actions, so API tokens with the `request` scope may do them."""

from __future__ import annotations

from fastapi import HTTPException, Request as HttpRequest
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.auth.identity import Identity, authorize
from portal.requests.models import Request
from portal.requests.permissions import actor_of
from portal.requests.visibility import visible_requests
from portal.scaffolder.tasks.models import ScaffolderTask

READ, CREATE, CANCEL, RETRY, DRY_RUN = ("requests.task.read", "requests.task.create", "requests.task.cancel",
                                        "requests.task.retry", "requests.dry-run.create")


def _anonymous_may_act(http: HttpRequest) -> bool:
    return bool(getattr(http.app.state.policy, "allow_anonymous_changes", False))


def visible_tasks(http: HttpRequest, session: Session, user: Identity) -> ColumnElement | None:
    """The condition on tasks the caller may see; None when they see every task."""
    if not user.is_authenticated:
        return None if _anonymous_may_act(http) else false()
    if user.is_admin:
        return None
    settings = http.app.state.settings
    requests_seen = visible_requests(session, user, settings.requests_visible_to, _anonymous_may_act(http))
    seen_request_ids = select(Request.id).where(requests_seen if requests_seen is not None else true())
    return or_(ScaffolderTask.created_by == user.user_ref,
               and_(ScaffolderTask.request_id.is_not(None), ScaffolderTask.request_id.in_(seen_request_ids)))


def check_may_change(http: HttpRequest, user: Identity, task: ScaffolderTask, action: str) -> None:
    """Cancelling or retrying: the task's creator or an admin (anyone where anonymous changes pass)."""
    authorize(http, user, action, task.id)
    if not user.is_authenticated and _anonymous_may_act(http):
        return
    if user.is_admin or task.created_by == actor_of(user):
        return
    raise HTTPException(403, f"Only {task.created_by}, who started task {task.id}, or an admin may do this")
