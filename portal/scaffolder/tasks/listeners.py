"""Who hears about a task's changes: the requests domain moves the order a task fulfils.

Called inside the transaction that changes the task, so the order moves in the same commit."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from portal.scaffolder.tasks.models import ScaffolderTask

# started | completed | failed | cancelled | retried
TaskListener = Callable[[Session, ScaffolderTask, str], None]


def task_listeners() -> tuple[TaskListener, ...]:
    from portal.requests.fulfillment import on_task_change

    return (on_task_change,)


def notify(session: Session, task: ScaffolderTask, change: str) -> None:
    """Tell every listener; only tasks that fulfil a request have any to tell."""
    if task.request_id is None:
        return
    for listener in task_listeners():
        listener(session, task, change)
