"""Reading the inbox for operators: filtered, keyset-paged deliveries in their JSON shape."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from portal.errors import CatalogApiError
from portal.flow.query import iso
from portal.webhooks.models import DELIVERY_STATUSES, WebhookDelivery

# Kept headers never include signatures, but a tool may send a token in a header we keep by prefix.
_SECRET_HEADER_WORDS = ("signature", "token", "authorization", "secret", "cookie")
_LIST_COLUMNS = [column for column in WebhookDelivery.__table__.columns if column.name != "body"]


@dataclass
class DeliveryPage:
    items: list[dict]
    total_items: int
    next_cursor: str | None = None
    prev_cursor: str | None = None


def safe_headers(raw: str) -> dict:
    """The stored headers minus anything that could be a credential."""
    headers = json.loads(raw or "{}")
    return {key: value for key, value in headers.items()
            if not any(word in key.lower() for word in _SECRET_HEADER_WORDS)}


def delivery_json(row) -> dict:  # noqa: ANN001 - a WebhookDelivery or a row of its columns
    """The list shape of a delivery: everything but headers and body."""
    return {
        "id": row.id, "source": row.source, "connection": row.connection, "deliveryId": row.delivery_id,
        "eventType": row.event_type, "status": row.status, "attempts": row.attempts,
        "receivedAt": iso(row.received_at), "processedAt": iso(row.processed_at),
        "nextAttemptAt": iso(row.next_attempt_at), "lastError": row.last_error, "contentType": row.content_type,
    }


def delivery_detail(row: WebhookDelivery) -> dict:
    """One delivery with its kept headers and body (text when it is text, else base64) for debugging."""
    received = row.received_body()
    try:
        body, encoding = received.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        body, encoding = base64.b64encode(received).decode(), "base64"
    return {**delivery_json(row), "headers": safe_headers(row.headers), "bodyBytes": len(received),
            "bodyEncoding": encoding, "body": body}


# The inbox id column is INTEGER (migration 0010): 32 bits on PostgreSQL, 64 on SQLite. A larger
# number names no row, and binding it would make PostgreSQL fail the statement.
_MAX_ID = {"postgresql": 2**31 - 1}
_MAX_ID_ELSEWHERE = 2**63 - 1


def is_inbox_id(session: Session, value: object) -> bool:
    """Whether `value` is a number an inbox row of this database can have."""
    return type(value) is int and 0 < value <= _MAX_ID.get(session.get_bind().dialect.name, _MAX_ID_ELSEWHERE)


def check_filters(source: str | None, status: str | None) -> None:
    """A status the inbox never uses is a mistake worth telling about; text PostgreSQL cannot hold too."""
    if source is not None and (not isinstance(source, str) or len(source) > 50 or not source.isprintable()):
        raise CatalogApiError(400, f"source={source!r} is not a tool name such as github")
    if status and status not in DELIVERY_STATUSES:
        raise CatalogApiError(400, f"status={status!r} is not one of {', '.join(DELIVERY_STATUSES)}")


def _encode(payload: dict) -> str:
    text = json.dumps({"v": 1, **payload}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(session: Session, token: str) -> dict:
    try:
        payload = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        payload = None
    if not (isinstance(payload, dict) and payload.get("v") == 1 and is_inbox_id(session, payload.get("at"))
            and all(isinstance(payload.get(key), str | None) for key in ("source", "status"))):
        raise CatalogApiError(400, "Malformed cursor, could not be parsed; start again without a cursor")
    return payload


def list_deliveries(session: Session, source: str | None = None, status: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> DeliveryPage:
    """Newest deliveries first; a cursor carries the filters of the page it came from."""
    at, backwards = None, False
    if cursor:
        payload = _decode(session, cursor)
        source, status, at, backwards = payload.get("source"), payload.get("status"), payload["at"], \
            bool(payload.get("back"))
    check_filters(source, status)
    conditions = []
    if source:
        conditions.append(WebhookDelivery.source == source)
    if status:
        conditions.append(WebhookDelivery.status == status)
    total = session.execute(select(func.count()).select_from(WebhookDelivery).where(*conditions)).scalar_one()
    statement = select(*_LIST_COLUMNS).where(*conditions)
    if at is not None:
        statement = statement.where(WebhookDelivery.id > at if backwards else WebhookDelivery.id < at)
    order = WebhookDelivery.id.asc() if backwards else WebhookDelivery.id.desc()
    rows = list(session.execute(statement.order_by(order).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    page = DeliveryPage(items=[delivery_json(row) for row in rows], total_items=total)
    filters = {"source": source, "status": status}
    if rows and (more if not backwards else True):
        page.next_cursor = _encode({**filters, "at": rows[-1].id})
    if rows and (more if backwards else at is not None):
        page.prev_cursor = _encode({**filters, "at": rows[0].id, "back": True})
    return page


def status_counts(session: Session) -> dict[str, int]:
    """How many deliveries are in each status (for the admin page's summary)."""
    rows = session.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all()
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def known_sources(session: Session) -> list[str]:
    """Tools that have sent at least one delivery."""
    return list(session.execute(select(WebhookDelivery.source).distinct().order_by(WebhookDelivery.source)).scalars())
