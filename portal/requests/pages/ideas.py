"""Ideas for platform products: listed per product by votes, one vote per person, and a form to submit one."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request as HttpRequest
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import and_, or_, select
from sqlmodel import Session

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.catalog.models import CatalogEntity
from portal.db import SessionDep
from portal.requests import service
from portal.requests.inputs import RequestProblem
from portal.requests.listing import events_by_request, request_json
from portal.requests.models import Request
from portal.requests.offerings import OfferingRefError, normalize_ref
from portal.requests.pages.common import (
    anonymous_may_change,
    refusal,
    refusal_page,
    render,
    see_other,
    visible,
    wants_json,
)
from portal.requests.pages.request_page import has_voted
from portal.requests.permissions import actor_of, check_may_create
from portal.requests.schemas import MAX_DESCRIPTION, MAX_NOTE, MAX_REF, MAX_TITLE

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
TOP_IDEAS = 50  # across all products on the overview; a product's own page is paged


def _encode(votes: int, row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([votes, row_id]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    problem = RequestProblem(400, "Malformed cursor, could not be parsed; start again without a cursor")
    try:
        position = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise problem from None
    if not (isinstance(position, list) and len(position) == 2
            and all(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
                    for value in position)):
        raise problem
    return position[0], position[1]


def platform_products(session: Session) -> list[tuple[str, str]]:
    """(ref, title) of every platform product, for the submit form."""
    rows = session.execute(select(CatalogEntity.entity_ref, CatalogEntity.body)
                           .where(CatalogEntity.kind == "PlatformProduct")).all()
    products = []
    for ref, body in rows:
        metadata = json.loads(body).get("metadata") or {}
        products.append((ref, str(metadata.get("title") or metadata.get("name") or ref)))
    return sorted(products, key=lambda item: item[1].lower())


def _ideas(session: Session, http: HttpRequest, user: Identity, product: str | None, cursor: str | None
           ) -> tuple[list[Request], str | None]:
    """Ideas the caller may see, most votes first (then newest); paged when one product is asked for."""
    conditions = [Request.kind == "idea"]
    condition = visible(http, session, user)
    if condition is not None:
        conditions.append(condition)
    if product:
        conditions.append(Request.product_ref == product)
    if cursor:
        votes, row_id = _decode(cursor)
        conditions.append(or_(Request.vote_count < votes, and_(Request.vote_count == votes, Request.id < row_id)))
    limit = PAGE_SIZE if product else TOP_IDEAS
    rows = list(session.execute(select(Request).where(*conditions)
                                .order_by(Request.vote_count.desc(), Request.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(rows[-1].vote_count, rows[-1].id) if more and product else None)


def _product_param(product: str | None) -> str | None:
    if not product:
        return None
    try:
        return normalize_ref(product, "platformproduct")
    except OfferingRefError as error:
        raise RequestProblem(400, f"product={product[:100]!r}: {error}") from None


def _page(http: HttpRequest, session: Session, user: Identity, product: str | None, cursor: str | None,
          form: dict | None = None, form_error: str | None = None, status: int = 200) -> Response:
    rows, next_cursor = _ideas(session, http, user, product, cursor)
    voted = has_voted(session, [row.id for row in rows], actor_of(user))
    if wants_json(http):
        events = events_by_request(session, [row.id for row in rows])
        now = datetime.now(UTC)
        return JSONResponse({"items": [request_json(row, events[row.id], now) for row in rows],
                             "pageInfo": {"nextCursor": next_cursor} if next_cursor else {}})
    groups: dict[str, list[Request]] = {}
    for row in rows:
        groups.setdefault(row.product_ref or "", []).append(row)
    return render(http, "requests/idea_list.html", {
        "groups": groups, "voted_ids": voted, "product": product, "products": platform_products(session),
        "may_vote": user.is_authenticated or anonymous_may_change(http, user),
        "next_url": "/ideas?" + urlencode({"product": product, "cursor": next_cursor}) if next_cursor else None,
        "form": form or {}, "form_error": form_error,
        "limits": {"title": MAX_TITLE, "description": MAX_DESCRIPTION, "hypothesis": MAX_NOTE},
        "current": http.url.path + (f"?{http.url.query}" if http.url.query else ""),
    }, status)


@router.get("/ideas", response_class=HTMLResponse)
def ideas_page(http: HttpRequest, session: SessionDep, user: CurrentUser,
               product: str | None = Query(None, max_length=MAX_REF),
               cursor: str | None = Query(None, max_length=200)) -> Response:
    """Ideas per product, most votes first, with a vote button each and a form to submit one."""
    try:
        authorize(http, user, "requests.request.read")
        return _page(http, session, user, _product_param(product), cursor)
    except (RequestProblem, HTTPException) as error:
        return refusal(http, session, error)


@router.post("/ideas")
def submit_idea(http: HttpRequest, session: SessionDep, user: CurrentUser,
                product: str = Form("", max_length=MAX_REF), title: str = Form("", max_length=MAX_TITLE),
                description: str = Form("", max_length=MAX_DESCRIPTION),
                value_hypothesis: str = Form("", max_length=MAX_NOTE)) -> Response:
    """Submit an idea for a product; it starts at `submitted`, and its product's owners hear of it."""
    form = {"product": product, "title": title, "description": description, "value_hypothesis": value_hypothesis}
    try:
        check_may_create(http, user, "request")
    except HTTPException as error:
        return refusal_page(http, session, error)
    try:
        if not product:
            raise RequestProblem(422, "Choose the platform product the idea is for")
        row = service.create_idea(session, product=product, requester=actor_of(user), title=title,
                                  description=description.strip() or None,
                                  value_hypothesis=value_hypothesis.strip() or None)
    except RequestProblem as problem:
        session.rollback()
        return _page(http, session, user, None, None, form, problem.message, problem.status)
    return see_other(f"/requests/{row.public_id}")
