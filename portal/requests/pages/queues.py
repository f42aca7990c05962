"""The owners' queues: orders awaiting my approval, manual work my groups own, ideas to triage.

Each queue is one condition on `requests` that leads an existing index (stage + capability, product
+ stage), built from the caller's groups through the catalog: what the groups approve
(spec.fulfillment.approvers), own (ownedBy) and, for capabilities, own through their product (partOf).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request as HttpRequest
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.catalog.models import CatalogEntity, CatalogRelation
from portal.db import SessionDep
from portal.requests.inputs import RequestProblem
from portal.requests.listing import RequestFilters, RequestQuery, decode_cursor, list_requests
from portal.requests.models import Request
from portal.requests.offerings import Offering
from portal.requests.pages.common import refusal, render, wants_json
from portal.requests.pages.lists import page_json
from portal.requests.stages import DEFAULT_STREAMS
from portal.requests.visibility import approving_offerings, owned_offerings

router = APIRouter(tags=["pages"], include_in_schema=False)

PREVIEW_SIZE = 10
PAGE_SIZE = 25
AWAITING_APPROVAL = "awaiting-approval"
TRIAGE_STAGE = "submitted"


def _not_manual_work_stages() -> list[str]:
    """Order stages that are not the owners' manual work: approval, delivery onwards, the ends."""
    stream = DEFAULT_STREAMS["order"]
    line = stream.main_line
    after_delivery = line[line.index(stream.delivery_stage):]
    return sorted({AWAITING_APPROVAL, *after_delivery, *(stage.id for stage in stream.stages if stage.terminal)})


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    explanation: str


QUEUES = (
    Queue("approval", "Awaiting my approval", "Orders for capabilities whose approvers include one of your groups."),
    Queue("work", "Manual work", "Orders of manually fulfilled capabilities your groups own (or own through "
                                 "their product), until they are delivered."),
    Queue("triage", "Ideas to triage", "New ideas for the platform products your groups own."),
)
QUEUE_NAMES = {queue.name: queue for queue in QUEUES}


def _manual_capabilities(session: Session, owned: list[str]) -> list[str]:
    """Capabilities owned by the groups, directly or through their product, that people fulfil by hand."""
    if not owned:
        return []
    through_product = select(CatalogRelation.source_ref).where(CatalogRelation.type == "partOf",
                                                               CatalogRelation.target_ref.in_(owned))
    rows = session.execute(select(CatalogEntity.entity_ref, CatalogEntity.body).where(
        CatalogEntity.kind == "Capability",
        or_(CatalogEntity.entity_ref.in_(owned), CatalogEntity.entity_ref.in_(through_product)))).all()
    return sorted(ref for ref, body in rows
                  if Offering(ref, json.loads(body), None, None).fulfillment_mode == "manual")


def queue_conditions(session: Session, user: Identity) -> dict[str, ColumnElement]:
    """Each queue's condition for this caller (false() when their groups approve or own nothing)."""
    groups = [ref for ref in user.ownership_refs if ref.startswith("group:")]
    if not groups:
        return {queue.name: false() for queue in QUEUES}
    approving = approving_offerings(session, groups)
    owned = owned_offerings(session, groups)
    manual = _manual_capabilities(session, owned)
    return {
        "approval": and_(Request.stage == AWAITING_APPROVAL, Request.capability_ref.in_(approving))
        if approving else false(),
        "work": and_(Request.kind == "order", Request.capability_ref.in_(manual),
                     Request.stage.not_in(_not_manual_work_stages())) if manual else false(),
        "triage": and_(Request.kind == "idea", Request.stage == TRIAGE_STAGE, Request.product_ref.in_(owned))
        if owned else false(),
    }


def _pager_links(name: str, page, single: bool) -> dict:  # noqa: ANN001 - a RequestPage
    """A preview links to its queue's first full page; a full page to its neighbours."""
    if not single:
        return {"next": f"/queues?queue={name}" if page.next_cursor else None, "prev": None}
    return {direction: f"/queues?{urlencode({'queue': name, 'cursor': cursor})}" if cursor else None
            for direction, cursor in (("next", page.next_cursor), ("prev", page.prev_cursor))}


@router.get("/queues", response_class=HTMLResponse)
def queues_page(http: HttpRequest, session: SessionDep, user: CurrentUser,
                queue: str | None = Query(None, max_length=20), cursor: str | None = Query(None, max_length=4000)
                ) -> Response:
    """All three queues with counts (a preview of each), or one queue paged (`?queue=approval`)."""
    try:
        authorize(http, user, "requests.request.read")
        if queue is not None and queue not in QUEUE_NAMES:
            raise RequestProblem(400, f"queue={queue[:20]!r} is not a queue; use one of {', '.join(QUEUE_NAMES)}")
        conditions = queue_conditions(session, user)
        shown = [QUEUE_NAMES[queue]] if queue else list(QUEUES)
        size = PAGE_SIZE if queue else PREVIEW_SIZE
        pages = {}
        for item in shown:
            query = decode_cursor(cursor, size) if cursor and queue else RequestQuery(RequestFilters(), size)
            pages[item.name] = list_requests(session, query, conditions[item.name], with_events=wants_json(http))
    except (RequestProblem, HTTPException) as error:
        return refusal(http, session, error)
    if wants_json(http):
        return JSONResponse({"queues": {name: page_json(page) for name, page in pages.items()}})
    links = {name: _pager_links(name, page, bool(queue)) for name, page in pages.items()}
    return render(http, "requests/queue_page.html", {"queues": shown, "pages": pages, "links": links,
                                                     "single": queue})
