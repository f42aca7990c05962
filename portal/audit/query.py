"""Reading the audit log: filters, newest first, keyset pages (the id is the order)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, replace

from sqlalchemy import func, select
from sqlmodel import Session

from portal.audit.models import OUTCOMES, AuditEvent
from portal.errors import CatalogApiError
from portal.flow.query import iso, parse_api_time

MAX_LIMIT = 500


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # an exact action, or a prefix ending in "." (e.g. "plugins.")
    outcome: str | None = None
    since: str | None = None
    until: str | None = None
    before_id: int | None = None


def checked_filter(actor: str | None, action: str | None, outcome: str | None,
                   since: str | None, until: str | None) -> AuditFilter:
    if outcome is not None and outcome not in OUTCOMES:
        raise CatalogApiError(400, f"outcome must be one of {', '.join(OUTCOMES)}")
    parse_api_time(since, "since")  # refused here with a readable reason, kept as written for cursors
    parse_api_time(until, "until")
    return AuditFilter(actor=actor, action=action, outcome=outcome, since=since, until=until)


def _conditions(wanted: AuditFilter) -> list:
    conditions = []
    if wanted.actor:
        conditions.append(AuditEvent.actor == wanted.actor.lower())
    if wanted.action:
        conditions.append(AuditEvent.action.startswith(wanted.action, autoescape=True)
                          if wanted.action.endswith(".") else AuditEvent.action == wanted.action)
    if wanted.outcome:
        conditions.append(AuditEvent.outcome == wanted.outcome)
    if wanted.since:
        conditions.append(AuditEvent.at >= parse_api_time(wanted.since, "since"))
    if wanted.until:
        conditions.append(AuditEvent.at < parse_api_time(wanted.until, "until"))
    return conditions


def event_json(row: AuditEvent) -> dict:
    return {"id": row.id, "at": iso(row.at), "actor": row.actor, "action": row.action, "resource": row.resource,
            "outcome": row.outcome, "statusCode": row.status_code, "method": row.method, "path": row.path,
            "clientAddress": row.client_address, "userAgent": row.user_agent, "reason": row.reason}


def list_events(session: Session, wanted: AuditFilter, limit: int) -> dict:
    """A page of events, newest first, in the flow API's paging shape."""
    conditions = _conditions(wanted)
    page_conditions = conditions + ([AuditEvent.id < wanted.before_id] if wanted.before_id else [])
    rows = session.execute(
        select(AuditEvent).where(*page_conditions).order_by(AuditEvent.id.desc()).limit(limit + 1)
    ).scalars().all()
    total = session.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
    page_info = {}
    if len(rows) > limit:
        rows = rows[:limit]
        page_info["nextCursor"] = encode_cursor(replace(wanted, before_id=rows[-1].id))
    return {"items": [event_json(row) for row in rows], "totalItems": total, "pageInfo": page_info}


def iter_events(session: Session, wanted: AuditFilter, batch: int = 1000):
    """Every matching event, oldest first, read in batches (for export)."""
    after = 0
    conditions = _conditions(wanted)
    while True:
        rows = session.execute(
            select(AuditEvent).where(*conditions, AuditEvent.id > after).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def encode_cursor(wanted: AuditFilter) -> str:
    raw = json.dumps({k: v for k, v in asdict(wanted).items() if v is not None}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> AuditFilter:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        wanted = AuditFilter(**data)
        if not isinstance(wanted.before_id, int) or not 0 < wanted.before_id < 2**63:
            raise ValueError
        checked_filter(wanted.actor, wanted.action, wanted.outcome, wanted.since, wanted.until)
        if not all(isinstance(v, str) for v in (wanted.actor, wanted.action, wanted.since, wanted.until)
                   if v is not None):
            raise ValueError
        return wanted
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise CatalogApiError(400, "The cursor is not one this API gave out; start again without it") from None
