"""The request page `/requests/REQ-<n>` and the forms on it: decide, move, confirm value, vote, comment.

Every form is a plain POST that answers 303 back to the page, so it works without JavaScript; the vote
button also answers an HTMX swap with its fragment. Refusals are pages that say why (403, 404, 409, 422).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, HTTPException, Request as HttpRequest
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.db import SessionDep
from portal.requests import service
from portal.requests.durations import DurationError, parse_duration
from portal.requests.inputs import FieldProblem, RequestProblem
from portal.requests.listing import events_by_request, get_request, is_breached, one_request_json
from portal.requests.models import Request, RequestVote
from portal.requests.offerings import offering_of
from portal.requests.pages import details
from portal.requests.pages.common import (
    anonymous_may_change,
    is_htmx,
    local_path,
    refusal,
    refusal_page,
    render,
    see_other,
    visible,
    wants_json,
)
from portal.requests.pages.task_log import fetch_task_events, task_log_urls
from portal.requests.permissions import (
    actor_of,
    check_may_confirm_value,
    check_may_create,
    check_may_decide,
    check_may_transition,
    may_decide,
    may_move,
)
from portal.requests.schemas import MAX_COMMENT, MAX_NOTE

router = APIRouter(tags=["pages"], include_in_schema=False)

COMMENTS_SHOWN = 200
CANCELLED, FAILED = "cancelled", "failed"


def has_voted(session: Session, request_ids: list[int], voter: str) -> set[int]:
    """Which of these requests the voter has voted for, in one query."""
    if not request_ids:
        return set()
    return set(session.execute(select(RequestVote.request_id).where(
        RequestVote.request_id.in_(request_ids), RequestVote.voter_ref == voter)).scalars())


def _actions(http: HttpRequest, user: Identity, row: Request, offering) -> dict:  # noqa: ANN001
    """Which forms this caller gets: the same rules as permissions.py, without writing to the audit log."""
    anonymous = anonymous_may_change(http, user)
    stream = offering.value_stream(row.kind)
    owner = anonymous or may_move(user, offering)
    requester = anonymous or (user.is_authenticated and row.requester_ref == user.user_ref)
    if owner:
        targets = [stage for stage in stream.stages if stage.id != row.stage]
    elif requester and not stream.is_terminal(row.stage):
        targets = [stage for stage in stream.stages if stage.id == CANCELLED]
    else:
        targets = []
    return {
        "may_decide": row.kind == "order" and row.stage == service.AWAITING_APPROVAL
        and (anonymous or may_decide(user, offering)),
        "targets": targets,
        "may_value": requester and row.kind == "order"
        and row.stage in (*service.VALUE_CONFIRMABLE_STAGES, service.VALUE_CONFIRMED),
        "may_participate": row.kind == "idea" and (user.is_authenticated or anonymous),
        # A failed fulfilment runs again once whoever can fix it (owners) or asked for it says so.
        "may_retry": row.kind == "order" and row.stage == FAILED and bool(row.task_id) and (owner or requester),
    }


def page_context(http: HttpRequest, session: Session, user: Identity, row: Request) -> dict:
    """Everything the request page shows."""
    offering = offering_of(session, row.capability_ref, row.product_ref)
    events = events_by_request(session, [row.id])[row.id]
    now = datetime.now(UTC)
    waiting = details.waiting_on(row, offering, events[-1] if events else None)
    context = {
        "row": row, "offering": offering, "events": list(reversed(events)), "waiting": waiting,
        "waiting_for": details.age_text(details.seconds_since(waiting.since, now)),
        "age": details.age_text(details.seconds_since(row.created_at, now)),
        "breached": is_breached(row, now),
        "stream": offering.value_stream(row.kind),
        "parameters": details.masked_parameters(row.parameters, details.parameter_schemas(session, offering))
        if row.kind == "order" else [],
        "task_log": task_log_urls(http.app, row.task_id) if row.task_id else None,
        "comments": service.comments_of(session, row, COMMENTS_SHOWN) if row.kind == "idea" else [],
        "voted": row.id in has_voted(session, [row.id], actor_of(user)) if row.kind == "idea" else False,
        "max_note": MAX_NOTE, "max_comment": MAX_COMMENT,
    }
    context.update(_actions(http, user, row, offering))
    return context


def _visible_row(http: HttpRequest, session: Session, user: Identity, public_id: str,
                 for_update: bool = False) -> Request:
    return get_request(session, public_id, for_update=for_update, visible=visible(http, session, user))


@router.get("/requests/{public_id}", response_class=HTMLResponse)
def request_page(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> Response:
    """One request: header, waiting on, timeline, parameters, log, and the forms this caller may use."""
    try:
        authorize(http, user, "requests.request.read", public_id)
        row = _visible_row(http, session, user, public_id)
    except (RequestProblem, HTTPException) as error:
        return refusal(http, session, error)
    if wants_json(http):
        return JSONResponse(one_request_json(session, row))
    return render(http, "requests/request_page.html", page_context(http, session, user, row))


def _form_action(http: HttpRequest, session: Session, user: Identity, public_id: str, act) -> Response:  # noqa: ANN001
    """Run a form's change on a request the caller can see, then go back to its page (or say why not)."""
    try:
        row = _visible_row(http, session, user, public_id, for_update=True)
        act(row)
    except (RequestProblem, HTTPException) as error:
        return refusal_page(http, session, error)
    return see_other(f"/requests/{row.public_id}")


@router.post("/requests/{public_id}/decision")
def decide_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
                decision: str = Form(..., max_length=10), reason: str = Form("", max_length=MAX_NOTE)) -> Response:
    """Approve or reject (with a reason) an order awaiting approval."""
    def act(row: Request) -> None:
        offering = offering_of(session, row.capability_ref, row.product_ref)
        check_may_decide(http, user, row, offering)
        if decision not in ("approve", "reject"):
            raise RequestProblem(422, "decision must be approve or reject", [FieldProblem("decision", "approve or reject")])
        service.decide(session, row, approve=decision == "approve", reason=reason or None, actor=actor_of(user),
                       offering=offering)
    return _form_action(http, session, user, public_id, act)


def _duration_seconds(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    try:
        return round(parse_duration(text.strip()))
    except DurationError as error:
        raise RequestProblem(422, f"{field} {error}", [FieldProblem(field, str(error))]) from None


@router.post("/requests/{public_id}/transition")
def transition_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
                    to: str = Form(..., max_length=100), note: str = Form("", max_length=MAX_NOTE),
                    work_time: str = Form("", max_length=100)) -> Response:
    """Move a request to another stage, with a note and the work time spent."""
    def act(row: Request) -> None:
        offering = offering_of(session, row.capability_ref, row.product_ref)
        check_may_transition(http, user, row, offering, to)
        service.transition(session, row, to=to, actor=actor_of(user), note=note.strip() or None,
                           work_time_seconds=_duration_seconds(work_time, "workTime"), offering=offering)
    return _form_action(http, session, user, public_id, act)


@router.post("/requests/{public_id}/value")
def value_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
               rating: str = Form(..., max_length=5), time_saved: str = Form(..., max_length=100),
               comment: str = Form("", max_length=MAX_NOTE)) -> Response:
    """The requester's rating (1–5), time saved and comment on a delivered order."""
    def act(row: Request) -> None:
        check_may_confirm_value(http, user, row)
        number = int(rating) if rating.strip().isascii() and rating.strip().isdigit() else rating
        service.confirm_value(session, row, rating=number, time_saved=time_saved.strip(), actor=actor_of(user),
                              comment=comment.strip() or None)
    return _form_action(http, session, user, public_id, act)


@router.post("/requests/{public_id}/comments")
def comment_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
                 body: str = Form(..., max_length=MAX_COMMENT)) -> Response:
    """Comment on an idea."""
    def act(row: Request) -> None:
        check_may_create(http, user, "comment")
        service.comment(session, row, actor_of(user), body)
    return _form_action(http, session, user, public_id, act)


@router.post("/requests/{public_id}/vote")
def vote_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
              next: str = Form("", max_length=500)) -> Response:
    """Vote for an idea, once per person: HTMX gets the vote fragment back, a plain form a redirect."""
    try:
        check_may_create(http, user, "vote")
        row = _visible_row(http, session, user, public_id, for_update=True)
        service.vote(session, row, actor_of(user))
    except (RequestProblem, HTTPException) as error:
        return refusal_page(http, session, error)
    if is_htmx(http):
        return render(http, "requests/_idea_votes.html", {"idea": row, "voted": True, "next": next})
    return see_other(local_path(next, f"/requests/{row.public_id}"))


@router.get("/requests/{public_id}/log", response_class=HTMLResponse)
async def task_log_page(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> Response:
    """The task log without JavaScript: the events listed once, from the task runner's JSON list."""
    from starlette.concurrency import run_in_threadpool

    def load() -> Request:
        authorize(http, user, "requests.request.read", public_id)
        return _visible_row(http, session, user, public_id)

    try:
        row = await run_in_threadpool(load)
    except (RequestProblem, HTTPException) as error:
        return await run_in_threadpool(refusal_page, http, session, error)
    if not row.task_id:
        return render(http, "error.html", {"status": 404, "title": "No task log",
                                           "message": f"{row.public_id} has no task, so it has no task log."}, 404)
    urls = task_log_urls(http.app, row.task_id)
    lines, problem = await fetch_task_events(http, urls)
    return render(http, "requests/request_log.html", {"row": row, "urls": urls, "lines": lines, "problem": problem})


@router.post("/requests/{public_id}/retry")
def retry_form(public_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> Response:
    """Run a failed order's task again (the order goes back to fulfilling): the requester or the owners."""
    from portal.scaffolder.tasks.service import TaskProblem, get_task, retry_task

    def act(row: Request) -> None:
        offering = offering_of(session, row.capability_ref, row.product_ref)
        if row.requester_ref != actor_of(user):
            check_may_transition(http, user, row, offering, "fulfilling")
        else:
            authorize(http, user, "requests.task.retry", row.public_id)
        if row.kind != "order" or row.stage != FAILED or not row.task_id:
            raise RequestProblem(409, f"{row.public_id} has no failed task to run again (it is in {row.stage!r})")
        try:
            task = get_task(session, row.task_id, for_update=True)
            retry_task(session, task, actor_of(user))
        except TaskProblem as problem:
            raise RequestProblem(problem.status, str(problem)) from None
    return _form_action(http, session, user, public_id, act)
