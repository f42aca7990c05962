"""Group commit for the inbox: concurrent deliveries are written in one transaction, and each
request is answered only after the transaction holding its row has committed."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Callable

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection

from portal.logging_setup import get_logger
from portal.plugins.contract import DeliveryInfo, WebhookRequest
from portal.webhooks.models import WebhookDelivery, encode_body
from portal.webhooks.wal_checkpoint import CHECKPOINT_PAUSE, RESTART_FRAMES, WalCheckpointer, checkpoints_needed

MAX_BATCH = 500
# Headers worth keeping with a delivery (signatures are dropped: they are only useful once).
_KEPT_HEADER_PREFIXES = ("x-github-", "x-gitlab-event", "x-atlassian-", "x-webhook-", "ce-", "user-agent",
                         "idempotency-key", "webhook-id", "webhook-timestamp", "content-type")
_STOP = object()
log = get_logger(__name__)


class InboxWriteError(Exception):
    """The transaction holding a delivery failed (already logged by the writer)."""


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


_COLUMNS = ("source", "connection", "delivery_id", "event_type", "headers", "body", "body_encoding",
            "content_type", "received_at", "status", "attempts")


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    positions: tuple[str, ...] | None  # parameter order for a positional driver (SQLite), None for named
    processors: tuple[tuple[str, Callable], ...]  # the column types' conversions (datetime -> text on SQLite)


@lru_cache(maxsize=8)
def _compiled_insert(dialect: Dialect) -> _CompiledInsert:
    # Compiled once per dialect and run on the driver's cursor: SQLAlchemy's per-statement work would
    # cost more than the insert itself at a thousand deliveries a second.
    module = postgresql if dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(WebhookDelivery)
        .values({name: bindparam(name) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["source", "connection", "delivery_id"])
        .returning(WebhookDelivery.id)
    )
    compiled = statement.compile(dialect=dialect)
    columns = WebhookDelivery.__table__.c
    processors = tuple((name, processor) for name in _COLUMNS
                       if (processor := columns[name].type.dialect_impl(dialect).bind_processor(dialect)))
    positions = tuple(compiled.positiontup) if compiled.positional else None
    return _CompiledInsert(str(compiled), positions, processors)


def write_rows(dbapi_connection, dialect: Dialect, rows: list[dict]) -> list[int | None]:  # noqa: ANN001
    """Insert rows in one transaction of a DBAPI connection; None for a delivery id already stored."""
    insert = _compiled_insert(dialect)
    cursor = dbapi_connection.cursor()
    try:
        ids: list[int | None] = []
        for row in rows:
            values = dict(row)
            # Compressed here, in the writer thread (zlib lets go of the GIL), not on the event loop.
            values["body"], values["body_encoding"] = encode_body(row["body"])
            for name, processor in insert.processors:
                values[name] = processor(values[name])
            cursor.execute(insert.sql, tuple(values[name] for name in insert.positions)
                           if insert.positions is not None else values)
            found = cursor.fetchone()
            ids.append(found[0] if found else None)
        dbapi_connection.commit()
        return ids
    except BaseException:
        dbapi_connection.rollback()
        raise
    finally:
        cursor.close()


# What became of one row: its inbox id, None for a duplicate, or the error that kept it out.
Outcome = int | None | BaseException


def _settle(batch: list[_Pending], outcomes: list[Outcome]) -> None:
    """On the requests' event loop: wake every request of a committed (or failed) batch."""
    for pending, outcome in zip(batch, outcomes):
        if pending.done.done():  # the client went away; its row is stored all the same
            continue
        if isinstance(outcome, BaseException):
            pending.done.set_exception(outcome)
        else:
            pending.done.set_result(outcome)


class InboxWriter:
    """One writer thread per app with a connection of its own: it takes everything that arrived while
    its last commit ran and commits it together. On a SQLite file the WAL is checkpointed by a second
    thread (`WalCheckpointer`), never inside the writer's commit, so a checkpoint does not hold up
    the acknowledgements."""

    def __init__(self, engine: Engine, checkpoint_pause: float = CHECKPOINT_PAUSE,
                 restart_frames: int = RESTART_FRAMES) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # lists of _Pending, or _STOP
        self._outboxes: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._thread: threading.Thread | None = None
        self._connection: PoolProxiedConnection | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.checkpointer = (WalCheckpointer(engine, self._write_lock, checkpoint_pause, restart_frames)
                             if checkpoints_needed(engine) else None)

    async def store(self, row: dict) -> int | None:
        """Returns the inbox id once committed (None for a duplicate); raises if the write failed."""
        if self._thread is None:
            self._start()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        outbox = self._outboxes.get(loop)
        if outbox is None:
            # Everything stored during this turn of the event loop goes to the writer as one batch.
            outbox = self._outboxes[loop] = []
            loop.call_soon(self._hand_over, loop)
        outbox.append(_Pending(row, done))
        return await done

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.put(self._outboxes.pop(loop))

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()
                if self.checkpointer is not None:
                    self.checkpointer.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = list(item)
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.extend(item)
            self._answer(batch, self._write(batch))
        self._disconnect()

    def _write(self, batch: list[_Pending]) -> list[Outcome]:
        rows = [pending.row for pending in batch]
        try:
            outcomes: list[Outcome] = list(self._write_rows(rows))
        except Exception as error:  # noqa: BLE001 - every waiting request must hear about it
            self._disconnect(invalidate=True)  # a broken connection is not reused
            # One bad row must not fail the good ones beside it: each goes again alone.
            outcomes = [InboxWriteError(str(error))] * len(rows) if len(rows) == 1 else self._write_one_by_one(rows)
            failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
            if failed:
                # Logged once for the batch, without a traceback: at this rate one per request would
                # bury the cause (and cost more than the writes).
                log.error("writing webhook deliveries to the inbox failed; answering 503 so the tools retry",
                          deliveries=len(failed), batch=len(rows), error=f"{type(error).__name__}: {error}",
                          row_error=str(failed[0]))
        if self.checkpointer is not None:
            self.checkpointer.nudge()
        return outcomes

    def _write_rows(self, rows: list[dict]) -> list[int | None]:
        if self._connection is None:
            self._connection = self._connect()
        with self._write_lock:
            return write_rows(self._connection.driver_connection, self.engine.dialect, rows)

    def _write_one_by_one(self, rows: list[dict]) -> list[Outcome]:
        """After a failed batch: each row in a transaction of its own, so only a bad row fails. When the
        database cannot be reached at all, the rest fail at once instead of one attempt each."""
        outcomes: list[Outcome] = []
        for row in rows:
            try:
                if self._connection is None:
                    self._connection = self._connect()
            except Exception as error:  # noqa: BLE001 - answered below, logged by the caller
                outcomes += [InboxWriteError(str(error))] * (len(rows) - len(outcomes))
                break
            try:
                outcomes.append(self._write_rows([row])[0])
            except Exception as error:  # noqa: BLE001 - this row alone fails
                outcomes.append(InboxWriteError(f"{type(error).__name__}: {error}"))
                self._disconnect(invalidate=True)
        return outcomes

    def _connect(self) -> PoolProxiedConnection:
        connection = self.engine.raw_connection()
        if self.checkpointer is not None:
            # This connection never checkpoints in its commit; the checkpointer thread does it.
            connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    def _disconnect(self, invalidate: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if invalidate or self.checkpointer is not None:
                # Not back into the pool broken, or with automatic checkpoints turned off.
                connection.invalidate()
            else:
                connection.close()
        except Exception as error:  # noqa: BLE001 - the writer goes on with a new connection
            log.warning("closing the inbox writer's connection failed", error=str(error))

    @staticmethod
    def _answer(batch: list[_Pending], outcomes: list[Outcome]) -> None:
        """Hand the outcome to each request's event loop (one wake-up per loop and batch)."""
        by_loop: dict[asyncio.AbstractEventLoop, tuple[list[_Pending], list]] = {}
        for pending, outcome in zip(batch, outcomes):
            pendings, answers = by_loop.setdefault(pending.done.get_loop(), ([], []))
            pendings.append(pending)
            answers.append(outcome)
        for loop, (pendings, answers) in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, pendings, answers)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass

    async def close(self) -> None:
        """Commit what is queued, then stop the writer and the checkpointer threads."""
        await asyncio.sleep(0)  # let a batch handed over during this turn of the loop reach the queue
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(thread.join)
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
