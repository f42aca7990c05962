"""“My requests” and “Our team's requests”: paged like the API (cursors), filtered by kind and stage."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request as HttpRequest
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import false, select
from sqlalchemy.sql.elements import ColumnElement

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.catalog.models import CatalogRelation
from portal.db import SessionDep
from portal.requests.inputs import RequestProblem
from portal.requests.listing import RequestFilters, RequestPage, RequestQuery, decode_cursor, list_requests
from portal.requests.models import KINDS, Request
from portal.requests.pages.common import refusal, render, wants_json
from portal.requests.permissions import actor_of
from portal.requests.stages import STAGE_ID, all_stage_ids

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


def page_json(page: RequestPage) -> dict:
    """The API's page shape: items, totalItems, pageInfo with the cursors there are."""
    info = {key: value for key, value in (("nextCursor", page.next_cursor), ("prevCursor", page.prev_cursor)) if value}
    return {"items": page.items, "totalItems": page.total_items, "pageInfo": info}


def checked_filters(kind: str | None, stage: str | None, requester: str | None = None) -> RequestFilters:
    """Kind and stage from the query string; anything else is a 400 that says what is accepted."""
    kind, stage = (kind or None), (stage or None)
    if kind is not None and kind not in KINDS:
        raise RequestProblem(400, f"kind={kind[:40]!r} is not a kind of request; use order or idea")
    if stage is not None and not STAGE_ID.fullmatch(stage):
        raise RequestProblem(400, f"stage={stage[:40]!r} is not a stage id such as awaiting-approval")
    return RequestFilters(kind=kind, stage=stage, requester=requester)


def team_condition(session, user: Identity) -> ColumnElement:  # noqa: ANN001 - a Session
    """Requests raised by members of the caller's groups (the caller included)."""
    groups = [ref for ref in user.ownership_refs if ref.startswith("group:")]
    if not groups:
        return Request.requester_ref == actor_of(user)
    # Read first, then listed as values: given a subquery, PostgreSQL walks all requests newest first
    # instead of the few teammates' rows on the (requester_ref, updated_at) index.
    teammates = session.execute(select(CatalogRelation.source_ref).distinct().where(
        CatalogRelation.type == "memberOf", CatalogRelation.target_ref.in_(groups))).scalars().all()
    return Request.requester_ref.in_(sorted({*teammates, actor_of(user)}))


def _list_page(http: HttpRequest, session, user: Identity, which: str, kind: str | None,  # noqa: ANN001
               stage: str | None, cursor: str | None, limit: int) -> Response:
    try:
        authorize(http, user, "requests.request.read")
        if cursor:
            query = decode_cursor(cursor, limit)
        else:
            query = RequestQuery(checked_filters(kind, stage, actor_of(user) if which == "mine" else None), limit)
        # Both lists are inside what the caller may see (their own and their teammates' requests), so the
        # only condition is the list's own: it keeps each to one index range.
        if which == "mine":
            query.filters.requester = actor_of(user)  # a cursor never lists someone else's
            condition = None
        else:
            query.filters.requester = None
            condition = team_condition(session, user) if user.is_authenticated else false()
        page = list_requests(session, query, condition, with_events=wants_json(http))
    except (RequestProblem, HTTPException) as error:
        return refusal(http, session, error)
    if wants_json(http):
        return JSONResponse(page_json(page))
    base = f"/requests/{which}"
    filters = [(name, value) for name, value in (("kind", query.filters.kind), ("stage", query.filters.stage))
               if value]
    return render(http, "requests/list_requests.html", {
        "which": which, "page": page, "kind": query.filters.kind or "", "stage": query.filters.stage or "",
        "kinds": KINDS, "stages": sorted(all_stage_ids()),
        "api_url": ("/api/v1/requests?" + urlencode([("requester", "me"), *filters])) if which == "mine" else None,
        "next_url": f"{base}?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else None,
        "prev_url": f"{base}?" + urlencode({"cursor": page.prev_cursor}) if page.prev_cursor else None,
        "json_url": base + ("?" + urlencode(filters) if filters else ""),
    })


@router.get("/requests", response_class=HTMLResponse)
@router.get("/requests/mine", response_class=HTMLResponse)
def my_requests(http: HttpRequest, session: SessionDep, user: CurrentUser,
                kind: str | None = Query(None, max_length=20), stage: str | None = Query(None, max_length=100),
                cursor: str | None = Query(None, max_length=4000),
                limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)) -> Response:
    """The requests the caller raised, most recently updated first."""
    return _list_page(http, session, user, "mine", kind, stage, cursor, limit)


@router.get("/requests/team", response_class=HTMLResponse)
def team_requests(http: HttpRequest, session: SessionDep, user: CurrentUser,
                  kind: str | None = Query(None, max_length=20), stage: str | None = Query(None, max_length=100),
                  cursor: str | None = Query(None, max_length=4000),
                  limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)) -> Response:
    """The requests raised by members of the caller's groups."""
    return _list_page(http, session, user, "team", kind, stage, cursor, limit)
