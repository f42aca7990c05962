"""Read requests: one by its public id, pages of them newest-updated first, and their JSON shape."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.flow.query import as_utc, iso
from portal.requests.inputs import RequestProblem
from portal.requests.models import PUBLIC_ID_PREFIX, Request, RequestEvent

CURSOR_VERSION = 1
MAX_DATABASE_ID = 2**31 - 1  # PostgreSQL's integer: a larger id cannot exist, and asking would be an error


def parse_public_id(public_id: str) -> int | None:
    """The row id in `REQ-42` (any case), or None for anything else."""
    prefix, digits = public_id[: len(PUBLIC_ID_PREFIX)], public_id[len(PUBLIC_ID_PREFIX):]
    if prefix.upper() != PUBLIC_ID_PREFIX or not digits.isascii() or not digits.isdigit() or len(digits) > 10:
        return None
    number = int(digits)
    return number if 0 < number <= MAX_DATABASE_ID else None


def get_request(session: Session, public_id: str, *, for_update: bool = False,
                visible: ColumnElement | None = None) -> Request:
    """The request called `public_id`; a 404 names it when there is none (or the caller may not see it)."""
    row_id = parse_public_id(public_id)
    row = None
    if row_id is not None:
        statement = select(Request).where(Request.id == row_id, *([visible] if visible is not None else []))
        # Changes lock the row on PostgreSQL, so two concurrent moves of one request apply one after the other.
        row = session.execute(statement.with_for_update() if for_update else statement).scalar_one_or_none()
    if row is None:
        raise RequestProblem(404, f"There is no request {public_id[:40]!r}; ids look like {PUBLIC_ID_PREFIX}42")
    return row


def is_breached(row: Request, now: datetime | None = None) -> bool:
    """Whether the lead time so far (or until delivery or an end) exceeds the capability's target."""
    if row.target_lead_time_seconds is None:
        return False
    end = as_utc(row.lead_time_ended_at) or now or datetime.now(UTC)
    return (end - as_utc(row.created_at)).total_seconds() > row.target_lead_time_seconds


def event_json(event: RequestEvent) -> dict:
    return {"at": iso(event.at), "actor": event.actor, "from": event.from_stage, "to": event.to_stage,
            "source": event.source, "note": event.note, "workTimeSeconds": event.work_time_seconds,
            "rework": event.is_rework}


def _value_json(row: Request) -> dict | None:
    if row.value_confirmed_at is None:
        return None
    return {"rating": row.value_rating, "timeSaved": row.value_time_saved, "comment": row.value_comment,
            "confirmedAt": iso(row.value_confirmed_at)}


def request_json(row: Request, events: list[RequestEvent], now: datetime | None = None) -> dict:
    """The API's shape of a request; an order names its capability (and its product), an idea its product."""
    item = {"id": row.public_id, "kind": row.kind, "title": row.title, "description": row.description}
    if row.kind == "order":
        item["capability"] = row.capability_ref
    item["product"] = row.product_ref
    item.update({
        "requester": row.requester_ref, "stage": row.stage, "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at), "targetLeadTime": row.target_lead_time, "breached": is_breached(row, now),
        "taskId": row.task_id, "component": row.component_ref, "trackerItem": row.tracker_item,
        "parameters": row.parameters, "valueHypothesis": row.value_hypothesis,
        "votes": row.vote_count, "flowItemType": row.flow_item_type, "value": _value_json(row),
        "events": [event_json(event) for event in events],
    })
    return item


def events_by_request(session: Session, request_ids: list[int]) -> dict[int, list[RequestEvent]]:
    """The timelines of several requests, oldest event first, in one query.

    Events are read as plain rows with the model's attribute names, not as ORM objects: a page of 50
    requests holds hundreds of events, and building ORM objects for them cost twice the query."""
    found: dict[int, list[RequestEvent]] = {request_id: [] for request_id in request_ids}
    if request_ids:
        rows = session.execute(
            select(*RequestEvent.__table__.columns).where(RequestEvent.request_id.in_(request_ids))
            .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id)
        )
        for event in rows:
            found[event.request_id].append(event)
    return found


def one_request_json(session: Session, row: Request) -> dict:
    return request_json(row, events_by_request(session, [row.id])[row.id])


@dataclass
class RequestFilters:
    """What a page asks for; a cursor carries the same fields so later pages keep the filters."""

    kind: str | None = None
    capability: str | None = None
    product: str | None = None
    requester: str | None = None
    stage: str | None = None


@dataclass
class RequestQuery:
    filters: RequestFilters
    limit: int = 50
    position: list = field(default_factory=list)  # [updatedAt ISO, row id] of the boundary row
    backwards: bool = False


def encode_cursor(query: RequestQuery) -> str:
    payload = {"v": CURSOR_VERSION, "f": asdict(query.filters), "p": query.position, "b": query.backwards}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, limit: int) -> RequestQuery:
    """A cursor from encode_cursor; anything else is a 400."""
    problem = RequestProblem(400, "Malformed cursor, could not be parsed; start again without a cursor")
    try:
        payload = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise problem from None
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        raise problem
    filters, position = payload.get("f"), payload.get("p")
    if not isinstance(filters, dict) or set(filters) != set(RequestFilters.__dataclass_fields__):
        raise problem
    if not all(value is None or isinstance(value, str) for value in filters.values()):
        raise problem
    if not (isinstance(position, list) and len(position) == 2 and isinstance(position[0], str)
            and isinstance(position[1], int) and not isinstance(position[1], bool)):
        raise problem
    try:
        datetime.fromisoformat(position[0])
    except ValueError:
        raise problem from None
    return RequestQuery(RequestFilters(**filters), limit, position, bool(payload.get("b")))


@dataclass
class RequestPage:
    items: list[dict]
    total_items: int
    next_cursor: str | None = None
    prev_cursor: str | None = None


def _conditions(filters: RequestFilters) -> list:
    columns = {"kind": Request.kind, "capability": Request.capability_ref, "product": Request.product_ref,
               "requester": Request.requester_ref, "stage": Request.stage}
    return [columns[name] == value for name, value in asdict(filters).items() if value is not None]


def list_requests(session: Session, query: RequestQuery, visible: ColumnElement | None = None,
                  with_events: bool = True) -> RequestPage:
    """A page of requests, most recently updated first (then by id), with cursors both ways; `visible`
    (portal/requests/visibility.py) keeps out what the caller may not see, in the count too. Pages that
    show no timelines pass `with_events=False` and get `"events": []`, saving the batch read of events."""
    conditions = _conditions(query.filters) + ([visible] if visible is not None else [])
    total = session.execute(select(func.count()).select_from(Request).where(*conditions)).scalar_one()
    statement = select(Request).where(*conditions)
    if query.position:
        at, row_id = as_utc(datetime.fromisoformat(query.position[0])), query.position[1]
        if query.backwards:
            after = or_(Request.updated_at > at, and_(Request.updated_at == at, Request.id > row_id))
        else:
            after = or_(Request.updated_at < at, and_(Request.updated_at == at, Request.id < row_id))
        statement = statement.where(after)
    order = (Request.updated_at.asc(), Request.id.asc()) if query.backwards else (Request.updated_at.desc(),
                                                                                   Request.id.desc())
    rows = list(session.execute(statement.order_by(*order).limit(query.limit + 1)).scalars())
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if query.backwards:
        rows.reverse()
    events = events_by_request(session, [row.id for row in rows] if with_events else [])
    now = datetime.now(UTC)
    page = RequestPage([request_json(row, events.get(row.id, []), now) for row in rows], total)
    if rows:
        # Going back there is always a page after this one (the one we came from), and vice versa.
        has_older = more if not query.backwards else True
        has_newer = more if query.backwards else bool(query.position)
        if has_older:
            page.next_cursor = encode_cursor(_step(query, rows[-1], backwards=False))
        if has_newer:
            page.prev_cursor = encode_cursor(_step(query, rows[0], backwards=True))
    return page


def _step(query: RequestQuery, row: Request, backwards: bool) -> RequestQuery:
    return RequestQuery(query.filters, query.limit, [as_utc(row.updated_at).isoformat(), row.id], backwards)
