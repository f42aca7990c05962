"""/api/v1/requests: raise orders and ideas, list and read them, decide, move, confirm value, vote, comment."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request as HttpRequest
from fastapi.responses import JSONResponse

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.requests.visibility import visible_requests
from portal.db import SessionDep
from portal.flow.query import iso
from portal.requests import service
from portal.requests.durations import DurationError, parse_duration
from portal.requests.inputs import FieldProblem, RequestProblem, text_problem
from portal.requests.listing import (
    RequestFilters,
    RequestQuery,
    decode_cursor,
    get_request,
    list_requests,
    one_request_json,
)
from portal.requests.models import ANONYMOUS_ACTOR, RequestComment
from portal.requests.offerings import OfferingRefError, normalize_ref, offering_of
from portal.requests.permissions import (
    actor_of,
    check_may_confirm_value,
    check_may_create,
    check_may_decide,
    check_may_link,
    check_may_transition,
)
from portal.requests.routing import RequestsRoute
from portal.requests.schemas import (
    CommentBody,
    DecisionBody,
    LinksBody,
    OrderCreate,
    RequestCreate,
    TransitionBody,
    ValueBody,
    hypothesis_value,
)
from portal.requests.stages import STAGE_ID

router = APIRouter(prefix="/api/v1/requests", tags=["requests"], route_class=RequestsRoute)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_COMMENTS_LISTED = 500


@router.post("", status_code=201)
def create_request(body: RequestCreate, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """Order a capability (`kind: order`) or propose an idea for a platform product (`kind: idea`)."""
    check_may_create(http, user, "request")
    common = {"requester": actor_of(user), "value_hypothesis": hypothesis_value(body.value_hypothesis),
              "description": body.description, "flow_item_type": body.flow_item_type}
    if isinstance(body, OrderCreate):
        row = service.create_order(session, capability=body.capability, parameters=body.parameters,
                                   title=body.title, **common)
        if body.component is not None:
            service.set_links(session, row, component=body.component, tracker_item=None, fields={"component"})
    else:
        row = service.create_idea(session, product=body.product, title=body.title, **common)
        if body.tracker_item is not None:
            service.set_links(session, row, component=None, tracker_item=body.tracker_item, fields={"tracker_item"})
    return one_request_json(session, row)


def _query_ref(value: str | None, name: str, kind: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_ref(value, kind)
    except OfferingRefError as error:
        raise RequestProblem(400, f"{name}={value[:100]!r}: {error}") from None


def _filters(user: Identity, kind: str | None, capability: str | None, product: str | None,
             requester: str | None, stage: str | None) -> RequestFilters:
    for name, value in (("capability", capability), ("product", product), ("requester", requester),
                        ("stage", stage)):
        if value is not None and (problem := text_problem(value)):
            raise RequestProblem(400, f"{name} {problem}")
    if stage is not None and not STAGE_ID.fullmatch(stage):
        raise RequestProblem(400, f"stage={stage[:100]!r} is not a stage id such as awaiting-approval")
    if requester == "me":
        requester_ref = actor_of(user)
    elif requester == ANONYMOUS_ACTOR:
        requester_ref = requester
    else:
        requester_ref = _query_ref(requester, "requester", "user")
    return RequestFilters(kind=kind, capability=_query_ref(capability, "capability", "capability"),
                          product=_query_ref(product, "product", "platformproduct"), requester=requester_ref,
                          stage=stage)


def _visible(http: HttpRequest, session: SessionDep, user: Identity):  # noqa: ANN202 - a SQL condition or None
    return visible_requests(session, user, http.app.state.settings.requests_visible_to,
                            http.app.state.policy.allow_anonymous_changes)


@router.get("")
def list_all_requests(
    http: HttpRequest,
    session: SessionDep,
    user: CurrentUser,
    kind: Literal["order", "idea"] | None = Query(None),
    capability: str | None = Query(None, max_length=400, description="Capability ref or name"),
    product: str | None = Query(None, max_length=400,
                                description="Platform product ref or name: its ideas and its capabilities' orders"),
    requester: str | None = Query(None, max_length=400, description="User ref, or `me` for the caller's own"),
    stage: str | None = Query(None, max_length=100),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=4000,
                               description="pageInfo.nextCursor or prevCursor of a previous page"),
) -> dict:
    """Requests, most recently updated first; a cursor keeps the filters of the page it came from."""
    authorize(http, user, "requests.request.read")
    if cursor:
        query = decode_cursor(cursor, limit)
    else:
        query = RequestQuery(_filters(user, kind, capability, product, requester, stage), limit)
    page = list_requests(session, query, _visible(http, session, user))
    page_info: dict = {}
    if page.next_cursor:
        page_info["nextCursor"] = page.next_cursor
    if page.prev_cursor:
        page_info["prevCursor"] = page.prev_cursor
    return {"items": page.items, "totalItems": page.total_items, "pageInfo": page_info}


@router.get("/{request_id}")
def read_request(request_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """One request with its whole timeline."""
    authorize(http, user, "requests.request.read", request_id)
    return one_request_json(session, get_request(session, request_id, visible=_visible(http, session, user)))


@router.post("/{request_id}/decision")
def decide_request(request_id: str, body: DecisionBody, http: HttpRequest, session: SessionDep,
                   user: CurrentUser) -> dict:
    """Approve or reject an order awaiting approval: members of its approvers group only."""
    row = get_request(session, request_id, for_update=True)
    offering = offering_of(session, row.capability_ref, row.product_ref)
    check_may_decide(http, user, row, offering)
    service.decide(session, row, approve=body.decision == "approve", reason=body.reason, actor=actor_of(user),
                   offering=offering)
    return one_request_json(session, row)


def _work_time_seconds(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return round(parse_duration(text))
    except DurationError as error:
        raise RequestProblem(422, f"workTime {error}", [FieldProblem("workTime", str(error))]) from None


@router.post("/{request_id}/transitions")
def move_request(request_id: str, body: TransitionBody, http: HttpRequest, session: SessionDep,
                 user: CurrentUser) -> dict:
    """Move a request to another stage: the capability's or product's owners (requesters may cancel)."""
    row = get_request(session, request_id, for_update=True)
    offering = offering_of(session, row.capability_ref, row.product_ref)
    check_may_transition(http, user, row, offering, body.to)
    service.transition(session, row, to=body.to, actor=actor_of(user), note=body.note,
                       work_time_seconds=_work_time_seconds(body.work_time), offering=offering)
    return one_request_json(session, row)


@router.put("/{request_id}/links")
def link_request(request_id: str, body: LinksBody, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """Link an order to its component (its first production deployment then moves it to in-use) or an
    idea to its issue-tracker item (whose status it then follows): the requester or the owners."""
    row = get_request(session, request_id, for_update=True)
    check_may_link(http, user, row, offering_of(session, row.capability_ref, row.product_ref))
    service.set_links(session, row, component=body.component, tracker_item=body.tracker_item,
                      fields=set(body.model_fields_set))
    return one_request_json(session, row)


@router.post("/{request_id}/value")
def confirm_value(request_id: str, body: ValueBody, http: HttpRequest, session: SessionDep,
                  user: CurrentUser) -> dict:
    """The requester rates the delivered order and says how much time it saved."""
    row = get_request(session, request_id, for_update=True)
    check_may_confirm_value(http, user, row)
    service.confirm_value(session, row, rating=body.rating, time_saved=body.time_saved, comment=body.comment,
                          actor=actor_of(user))
    return one_request_json(session, row)


@router.post("/{request_id}/votes", responses={200: {"description": "This person had already voted"}},
             status_code=201)
def vote_for_request(request_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> JSONResponse:
    """Vote for an idea; one vote per person, so voting again changes nothing (200 instead of 201)."""
    check_may_create(http, user, "vote")
    row = get_request(session, request_id)
    counted = service.vote(session, row, actor_of(user))
    return JSONResponse(one_request_json(session, row), status_code=201 if counted else 200)


def _comment_json(item: RequestComment) -> dict:
    return {"id": item.id, "author": item.author_ref, "at": iso(item.at), "body": item.body}


@router.post("/{request_id}/comments", status_code=201)
def comment_on_request(request_id: str, body: CommentBody, http: HttpRequest, session: SessionDep,
                       user: CurrentUser) -> dict:
    """Comment on an idea."""
    check_may_create(http, user, "comment")
    row = get_request(session, request_id)
    return _comment_json(service.comment(session, row, actor_of(user), body.body))


@router.get("/{request_id}/comments")
def list_comments(request_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """An idea's comments, oldest first (the first MAX_COMMENTS_LISTED)."""
    authorize(http, user, "requests.comment.read", request_id)
    row = get_request(session, request_id, visible=_visible(http, session, user))
    items = service.comments_of(session, row, MAX_COMMENTS_LISTED)
    return {"items": [_comment_json(item) for item in items], "totalItems": service.comment_count(session, row)}
