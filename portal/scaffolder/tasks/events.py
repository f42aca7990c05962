"""A task's append-only event log, in Backstage's shape `{id, taskId, body, type, createdAt}`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
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


class ProgressLines:
    """The `log` events of a running task, committed in small batches: a flusher thread commits what
    is waiting every `every_seconds`, so people following the run see each line within that time (also
    while an action blocks), without a transaction per line.

    A line is progress, not state: on PostgreSQL the batch's commit does not wait for the write-ahead
    log to reach the disk (`synchronous_commit` off for that transaction only). A crash can lose the
    last lines before it; the task's status, outcome and completion event are committed normally.
    A ten-step run used to spend most of its overhead on one fsync'd transaction per line.
    """

    def __init__(self, engine, task_id: str, every_seconds: float = 0.2) -> None:  # noqa: ANN001
        self.engine, self.task_id, self.every_seconds = engine, task_id, every_seconds
        self.pending: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._flush_periodically, name=f"task-lines-{task_id[:8]}", daemon=True)
        self.thread.start()

    def add(self, body: dict[str, Any]) -> None:
        with self.lock:
            self.pending.append({"task_id": self.task_id, "type": "log", "body": body, "created_at": utcnow()})

    def _flush_periodically(self) -> None:
        while not self.stopping.wait(self.every_seconds):
            try:
                self._flush()
            except Exception:  # noqa: BLE001 - the final flush tries again; a lost line never stops the run
                pass

    def _flush(self) -> None:
        with self.lock:  # one writer at a time keeps the lines in order
            if not self.pending:
                return
            rows, self.pending = self.pending, []
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                connection.execute(insert(ScaffolderTaskEvent.__table__), rows)

    def close(self) -> None:
        """Stop the flusher and commit the rest (the runner calls it before the task's outcome, so every
        line comes before the completion)."""
        self.stopping.set()
        self.thread.join(timeout=10)
        self._flush()
