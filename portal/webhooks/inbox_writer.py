"""Group commit for the inbox: concurrent deliveries are written in one transaction, and each
request is answered only after the transaction holding its row has committed."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from portal.plugins.contract import DeliveryInfo, WebhookRequest
from portal.webhooks.models import WebhookDelivery

MAX_BATCH = 500
# Headers worth keeping with a delivery (signatures are dropped: they are only useful once).
_KEPT_HEADER_PREFIXES = ("x-github-", "x-gitlab-event", "x-atlassian-", "x-webhook-", "ce-", "user-agent",
                         "idempotency-key", "webhook-id", "webhook-timestamp", "content-type")


@dataclass
class _Pending:
    row: dict
    done: asyncio.Future


def delivery_row(source: str, connection: str, info: DeliveryInfo, request: WebhookRequest) -> dict:
    """The inbox row for one delivery, as received."""
    kept = {k: v for k, v in request.headers.items() if k.startswith(_KEPT_HEADER_PREFIXES)}
    return {
        "source": source, "connection": connection, "delivery_id": info.delivery_id,
        "event_type": info.event_type, "headers": json.dumps(kept), "body": request.body,
        "content_type": request.content_type, "received_at": datetime.now(UTC),
        "status": "pending" if info.used else "ignored", "attempts": 0,
    }


_COLUMNS = ("source", "connection", "delivery_id", "event_type", "headers", "body", "content_type",
            "received_at", "status", "attempts")


@lru_cache(maxsize=4)
def _insert_statement(dialect_name: str):  # noqa: ANN202
    # Built once with bind parameters, so SQLAlchemy compiles it once, not per delivery.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(WebhookDelivery)
        .values({name: bindparam(name) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["source", "connection", "delivery_id"])
        .returning(WebhookDelivery.id)
    )


def write_rows(engine: Engine, rows: list[dict]) -> list[int | None]:
    """Insert rows in one transaction; None for a row whose delivery id was already stored."""
    statement = _insert_statement(engine.dialect.name)
    with engine.begin() as connection:
        return [connection.execute(statement, row).scalar_one_or_none() for row in rows]


class InboxWriter:
    """One writer task per app: collects what arrived while the last commit ran, commits it together."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def store(self, row: dict) -> int | None:
        """Returns the inbox id once committed (None for a duplicate); raises if the write failed."""
        loop = asyncio.get_running_loop()
        # (Re)start the writer on this loop: a test client or server restart brings a new loop.
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = asyncio.create_task(self._run())
        done = loop.create_future()
        await self._queue.put(_Pending(row, done))
        return await done

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            try:
                ids = await run_in_threadpool(write_rows, self.engine, [p.row for p in batch])
            except Exception as error:  # noqa: BLE001 - every waiting request must hear about it
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(error)
                continue
            for pending, stored_id in zip(batch, ids, strict=True):
                if not pending.done.done():
                    pending.done.set_result(stored_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
