"""Notes each policy decision on the request and writes them once the response is known.

`authorize()` (portal/auth/identity.py) calls `note_decision()` for every action that is not a plain
read; `AuditMiddleware` writes the notes after the route answered, with the final status, in a
transaction of its own, so that a route that fails or is refused (its transaction rolled back) is
still on the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.audit.models import AuditEvent
from portal.logging_setup import get_logger

log = get_logger(__name__)
_NOTES_KEY = "audit_notes"


@dataclass
class DecisionNote:
    at: datetime
    actor: str
    action: str
    resource: str | None
    allowed: bool
    reason: str | None = None


def is_audited(action: str) -> bool:
    """Changes and privileged reads (admin pages, raw webhook bodies) are audited; open reads are not."""
    return not action.endswith(".read") or action.startswith(("admin.", "audit."))


def note_decision(request: Request, actor: str | None, action: str, resource: str | None,
                  allowed: bool, reason: str | None = None) -> None:
    """Remember a decision for the audit log of this request (written when the response is known)."""
    if not is_audited(action):
        return
    notes = request.scope.setdefault("state", {}).setdefault(_NOTES_KEY, [])
    notes.append(DecisionNote(datetime.now(UTC), actor or "anonymous", action, resource, allowed, reason))


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _outcome(note: DecisionNote, status: int | None) -> str:
    if not note.allowed:
        return "denied"
    return "succeeded" if status is not None and status < 400 else "failed"


def audit_rows(scope: Scope, notes: list[DecisionNote], status: int | None) -> list[dict]:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
    client = scope.get("client")
    return [{
        "at": note.at, "actor": _clip(note.actor, 300), "action": _clip(note.action, 200),
        "resource": _clip(note.resource, 500), "outcome": _outcome(note, status), "status_code": status,
        "method": _clip(scope.get("method", ""), 10), "path": _clip(scope.get("path", ""), 500),
        "client_address": _clip(client[0] if client else None, 100),
        "user_agent": _clip(headers.get("user-agent"), 300), "reason": _clip(note.reason, 2000),
    } for note in notes]


def write_audit_rows(engine: Engine, rows: list[dict]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(AuditEvent), rows)


class AuditMiddleware:
    """Pure ASGI: costs nothing for requests that made no audited decision."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def remember_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            notes = (scope.get("state") or {}).get(_NOTES_KEY)
            if notes:
                await self._write(scope, notes, status[0] if status else None)

    async def _write(self, scope: Scope, notes: list[DecisionNote], status: int | None) -> None:
        rows = audit_rows(scope, notes, status)
        try:
            await anyio.to_thread.run_sync(write_audit_rows, self.engine, rows)
        except Exception:  # noqa: BLE001 - the action is done; losing its record must be loud, not fatal
            log.exception("audit events could not be written", actions=[row["action"] for row in rows])
