"""A task's append-only event log, in Backstage's shape `{id, taskId, body, type, createdAt}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from portal.scaffolder.tasks.models import ScaffolderTaskEvent

MAX_EVENTS_PER_READ = 1000


def utcnow() -> datetime:
    return datetime.now(UTC)


def append_event(session: Session, task_id: str, event_type: str, body: dict[str, Any]) -> ScaffolderTaskEvent:
    """Add one event (flushed, so it has its id); the caller commits."""
    event = ScaffolderTaskEvent(task_id=task_id, type=event_type, body=body, created_at=utcnow())
    session.add(event)
    session.flush()
    return event


def events_after(session: Session, task_id: str, after: int | None = None,
                 limit: int = MAX_EVENTS_PER_READ) -> list[ScaffolderTaskEvent]:
    """The task's events with an id above `after`, oldest first."""
    query = select(ScaffolderTaskEvent).where(ScaffolderTaskEvent.task_id == task_id)
    if after is not None:
        query = query.where(ScaffolderTaskEvent.id > after)
    return list(session.execute(query.order_by(ScaffolderTaskEvent.id).limit(limit)).scalars())


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, as Backstage's clients parse it."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_json(event: ScaffolderTaskEvent) -> dict[str, Any]:
    return {"id": event.id, "taskId": event.task_id, "body": event.body, "type": event.type,
            "createdAt": iso(event.created_at)}
