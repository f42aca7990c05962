"""Workers take open tasks with row claims, keep them with heartbeats, and recover the ones whose worker died.

PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's candidate. SQLite: one
conditional `UPDATE … WHERE status = 'open'`; SQLite runs one writer at a time, so exactly one wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.scaffolder.tasks.events import append_event, iso, utcnow
from portal.scaffolder.tasks.listeners import notify
from portal.scaffolder.tasks.models import FAILED, OPEN, PROCESSING, ScaffolderTask
from portal.scaffolder.tasks.service import finish_task


@dataclass(frozen=True)
class Claim:
    """A task this worker holds: its id and the attempt number the claim is for."""

    task_id: str
    attempt: int
    worker_id: str


def _oldest_open(session: Session) -> str | None:
    query = select(ScaffolderTask.id).where(ScaffolderTask.status == OPEN).order_by(
        ScaffolderTask.created_at, ScaffolderTask.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).scalar_one_or_none()


def claim_next(session: Session, worker_id: str) -> ScaffolderTask | None:
    """Take the oldest open task for `worker_id` (processing, heartbeat now, attempts + 1); the caller commits."""
    for _ in range(3):  # on SQLite another worker may win the candidate between the read and the update
        task_id = _oldest_open(session)
        if task_id is None:
            return None
        now = utcnow()
        taken = session.execute(
            update(ScaffolderTask).where(ScaffolderTask.id == task_id, ScaffolderTask.status == OPEN)
            .values(status=PROCESSING, claimed_by=worker_id, heartbeat_at=now, started_at=now,
                    finished_at=None, cancel_requested=False, attempts=ScaffolderTask.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            task = session.get(ScaffolderTask, task_id, populate_existing=True)
            append_event(session, task_id, "log", {"message": f"Task started (attempt {task.attempts})",
                                                   "status": PROCESSING})
            notify(session, task, "started")
            return task
    return None


def beat(engine: Engine, claim: Claim) -> tuple[bool, bool]:
    """Renew the heartbeat; returns (still ours, cancel requested)."""
    with Session(engine) as session:
        renewed = session.execute(
            update(ScaffolderTask).where(*_held(claim)).values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        cancel = session.execute(select(ScaffolderTask.cancel_requested).where(
            ScaffolderTask.id == claim.task_id)).scalar_one_or_none()
        session.commit()
    return renewed == 1, bool(cancel)


def cancel_requested(engine: Engine, claim: Claim) -> bool:
    """Whether someone asked to cancel, or the claim was lost (the task was recovered meanwhile)."""
    with Session(engine) as session:
        row = session.execute(select(ScaffolderTask.cancel_requested, ScaffolderTask.claimed_by,
                                     ScaffolderTask.attempts, ScaffolderTask.status)
                              .where(ScaffolderTask.id == claim.task_id)).first()
    if row is None:
        return True
    return bool(row.cancel_requested) or row.claimed_by != claim.worker_id or row.attempts != claim.attempt \
        or row.status != PROCESSING


def _held(claim: Claim) -> tuple:
    return (ScaffolderTask.id == claim.task_id, ScaffolderTask.status == PROCESSING,
            ScaffolderTask.claimed_by == claim.worker_id, ScaffolderTask.attempts == claim.attempt)


def held_task(session: Session, claim: Claim) -> ScaffolderTask | None:
    """The task, locked, if this claim still holds it (a recovered task is no longer ours to finish)."""
    query = select(ScaffolderTask).where(*_held(claim))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def recover_stale(session: Session, timeout_seconds: float, now: datetime | None = None) -> list[Claim]:
    """Fail processing tasks whose heartbeat is older than the timeout, with a `recovered` event; the caller commits."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=timeout_seconds)
    query = select(ScaffolderTask).where(ScaffolderTask.status == PROCESSING, ScaffolderTask.heartbeat_at < cutoff)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    recovered = []
    for task in session.execute(query.order_by(ScaffolderTask.heartbeat_at).limit(50)).scalars():
        message = (f"The worker {task.claimed_by} stopped while running this task (no heartbeat since "
                   f"{iso(task.heartbeat_at)}, more than {timeout_seconds:g} seconds); it was marked failed and "
                   f"can be retried")
        append_event(session, task.id, "recovered", {"message": message, "status": FAILED})
        recovered.append(Claim(task.id, task.attempts, task.claimed_by or ""))
        finish_task(session, task, FAILED, message, error=message)
    return recovered
