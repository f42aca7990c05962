"""The audit log as JSON (/api/v1/audit), as an export (JSON Lines or CSV) and as an admin page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlmodel import Session

from portal.audit.models import OUTCOMES
from portal.audit.query import MAX_LIMIT, AuditFilter, checked_filter, decode_cursor, event_json, iter_events, list_events
from portal.auth.identity import CurrentUser, authorize
from portal.db import SessionDep
from portal.errors import CatalogApiError

api_router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
pages_router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
_EXPORT_COLUMNS = ("id", "at", "actor", "action", "resource", "outcome", "statusCode", "method", "path",
                   "clientAddress", "userAgent", "reason")


def _wanted(actor, action, outcome, since, until, cursor) -> AuditFilter:  # noqa: ANN001
    return decode_cursor(cursor) if cursor else checked_filter(actor or None, action or None, outcome or None,
                                                               since or None, until or None)


@api_router.get("")
def list_audit_events(
    request: Request, session: SessionDep, user: CurrentUser,
    actor: str | None = Query(None, max_length=300, description="A user ref, or anonymous"),
    action: str | None = Query(None, max_length=200, description="An action, or a prefix ending in '.'"),
    outcome: str | None = Query(None, description=" | ".join(OUTCOMES)),
    since: str | None = Query(None, description="At or after this ISO-8601 time"),
    until: str | None = Query(None, description="Before this ISO-8601 time"),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=2000, description="pageInfo.nextCursor of a previous page"),
) -> dict:
    """Privileged actions, newest first: who, what, when, from where and how it ended."""
    authorize(request, user, "audit.events.list")
    return list_events(session, _wanted(actor, action, outcome, since, until, cursor), limit)


def _jsonl(rows: Iterator) -> Iterator[str]:
    for row in rows:
        yield json.dumps(event_json(row), ensure_ascii=False) + "\n"


def _csv(rows: Iterator) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_EXPORT_COLUMNS)
    for row in rows:
        event = event_json(row)
        # A leading = + - @ would make a spreadsheet run the cell as a formula: quote it as text.
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                         for v in (event[c] for c in _EXPORT_COLUMNS)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@api_router.get("/export")
def export_audit_events(
    request: Request, user: CurrentUser,
    format: str = Query("jsonl", pattern="^(jsonl|csv)$", description="jsonl (JSON Lines) or csv"),
    actor: str | None = Query(None, max_length=300), action: str | None = Query(None, max_length=200),
    outcome: str | None = None, since: str | None = None, until: str | None = None,
) -> StreamingResponse:
    """Every matching event, oldest first, streamed as JSON Lines or CSV."""
    authorize(request, user, "audit.events.export")
    wanted = checked_filter(actor or None, action or None, outcome or None, since or None, until or None)
    engine = request.app.state.engine

    def rows() -> Iterator:
        # The export outlives the request's session: read it in a session of its own.
        with Session(engine) as session:
            yield from iter_events(session, wanted)

    body = _csv(rows()) if format == "csv" else _jsonl(rows())
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    filename = f"flowport-audit.{format}"
    return StreamingResponse(body, media_type=media,
                             headers={"content-disposition": f'attachment; filename="{filename}"'})


@pages_router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, user: CurrentUser, actor: str = "", action: str = "",
               outcome: str = "", cursor: str | None = None) -> HTMLResponse:
    """The audit log for admins: filters, newest first, export links."""
    authorize(request, user, "audit.events.list")
    filters = [(k, v.strip()) for k, v in (("actor", actor), ("action", action), ("outcome", outcome)) if v.strip()]
    try:
        page = list_events(session, _wanted(*(dict(filters).get(k) for k in ("actor", "action", "outcome")),
                                            None, None, cursor), PAGE_SIZE)
    except CatalogApiError as error:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"status": 400, "message": error.message}, status_code=400)
    query = ("?" + urlencode(filters)) if filters else ""
    context = {
        "page": page, "actor": actor, "action": action, "outcome": outcome, "outcomes": OUTCOMES,
        "api_url": "/api/v1/audit" + query,
        "export_jsonl": "/api/v1/audit/export?" + urlencode([*filters, ("format", "jsonl")]),
        "export_csv": "/api/v1/audit/export?" + urlencode([*filters, ("format", "csv")]),
        "next_url": ("/admin/audit?" + urlencode({"cursor": page["pageInfo"]["nextCursor"]})
                     if page["pageInfo"].get("nextCursor") else None),
    }
    return request.app.state.templates.TemplateResponse(request, "admin/audit.html", context)
