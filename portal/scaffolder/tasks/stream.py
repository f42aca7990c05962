"""A task's events as a server-sent event stream, polled with a fresh short session each time so
that no database session is held while the stream waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from portal.scaffolder.tasks.events import event_json, events_after
from portal.scaffolder.tasks.models import FINISHED, ScaffolderTask

POLL_SECONDS = 0.5
# A comment line now and then keeps proxies from closing a quiet stream.
KEEPALIVE_POLLS = 30


def sse_message(event: dict) -> str:
    """One server-sent event: `event:` type, `id:` event id, `data:` the JSON event."""
    return f"event: {event['type']}\nid: {event['id']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _read(engine: Engine, task_id: str, after: int | None) -> tuple[list[dict], bool]:
    with Session(engine) as session:
        # Status first: a task seen finished has its completion event committed, so the read below has it.
        status = session.execute(select(ScaffolderTask.status).where(ScaffolderTask.id == task_id)).scalar_one_or_none()
        events = [event_json(event) for event in events_after(session, task_id, after)]
    return events, status is None or status in FINISHED


async def task_event_stream(engine: Engine, task_id: str, after: int | None,
                            disconnected: Callable[[], Awaitable[bool]],
                            poll_seconds: float = POLL_SECONDS) -> AsyncIterator[str]:
    """Every event after `after`, as they come; ends once the task has finished and its last `completion`
    event is sent (at once for a client resuming after the end)."""
    quiet_polls = 0
    while True:
        events, finished = await run_in_threadpool(_read, engine, task_id, after)
        for event in events:
            yield sse_message(event)
            after = event["id"]
        # A retried task has an earlier completion followed by more events: only the last one ends the stream.
        if finished and (not events or events[-1]["type"] == "completion"):
            return
        if await disconnected():
            return
        quiet_polls = 0 if events else quiet_polls + 1
        if quiet_polls >= KEEPALIVE_POLLS:
            quiet_polls = 0
            yield ": still running\n\n"
        await asyncio.sleep(poll_seconds)
