"""The inbox writer: group commit on a thread of its own, and (SQLite) WAL checkpoints off the writer."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from portal.plugins.contract import DeliveryInfo, WebhookRequest
from portal.webhooks import inbox_writer, wal_checkpoint
from portal.webhooks.inbox_writer import InboxWriteError, InboxWriter, delivery_row
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows, run_async

PR_OPENED = (FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json").read_bytes()
# As large as PR_OPENED but not compressible: it still takes 7-8 WAL pages a delivery when stored.
INCOMPRESSIBLE = random.Random(5).randbytes(len(PR_OPENED))


def row(delivery_id: str, body: bytes = PR_OPENED) -> dict:
    request = WebhookRequest(headers={"x-github-event": "pull_request", "x-github-delivery": delivery_id},
                             body=body, content_type="application/json")
    return delivery_row("github", "default", DeliveryInfo(delivery_id, "pull_request.opened"), request)


def stored_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one()


async def store_all(writer: InboxWriter, ids: list[str], body: bytes = PR_OPENED) -> list:
    return await asyncio.gather(*(writer.store(row(i, body)) for i in ids), return_exceptions=True)


def record_batches(monkeypatch) -> list[int]:  # noqa: ANN001
    sizes: list[int] = []
    real = inbox_writer.write_rows

    def counting(connection, dialect, rows):  # noqa: ANN001, ANN202
        sizes.append(len(rows))
        return real(connection, dialect, rows)

    monkeypatch.setattr(inbox_writer, "write_rows", counting)
    return sizes


def test_concurrent_deliveries_are_committed_together_and_all_stored(engine, monkeypatch):
    batches = record_batches(monkeypatch)
    writer = InboxWriter(engine)

    async def scenario() -> list:
        ids = await store_all(writer, [f"d-{n}" for n in range(200)])
        await writer.close()
        return ids

    ids = run_async(scenario())
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 200
    assert stored_count(engine) == 200
    assert sum(batches) == 200 and len(batches) < 200  # group commit: fewer transactions than deliveries
    stored = all_rows(engine, WebhookDelivery)
    assert {r.received_body() for r in stored} == {PR_OPENED}
    # Kept compressed: GitHub's JSON is repetitive, and every byte not written keeps the disk quiet.
    assert {r.body_encoding for r in stored} == {"zlib"}
    assert all(len(r.body) * 4 < len(PR_OPENED) for r in stored)


def test_small_or_incompressible_bodies_are_kept_as_received(engine):
    small = b'{"zen": "Keep it logically awesome."}'
    noise = random.Random(3).randbytes(4096)
    writer = InboxWriter(engine)

    async def scenario() -> None:
        for name, body in (("small", small), ("noise", noise)):
            request = WebhookRequest(headers={}, body=body, content_type="application/octet-stream")
            await writer.store(delivery_row("github", "default", DeliveryInfo(name, "ping"), request))
        await writer.close()

    run_async(scenario())
    stored = {r.delivery_id: r for r in all_rows(engine, WebhookDelivery)}
    assert (stored["small"].body, stored["small"].body_encoding) == (small, None)
    assert (stored["noise"].body, stored["noise"].body_encoding) == (noise, None)


def test_a_redelivery_in_the_same_transaction_is_stored_once(engine):
    writer = InboxWriter(engine)

    async def scenario() -> list:
        ids = await store_all(writer, ["same", "same", "other"])
        again = await writer.store(row("same"))
        await writer.close()
        return [*ids, again]

    first, duplicate, other, again = run_async(scenario())
    assert isinstance(first, int) and isinstance(other, int)
    assert duplicate is None and again is None
    assert stored_count(engine) == 2


def test_a_failed_transaction_is_written_again_row_by_row_and_nothing_is_lost(engine, monkeypatch):
    real = inbox_writer.write_rows
    failures = iter([OperationalError("INSERT", {}, Exception("disk I/O error"))])
    batches: list[int] = []

    def failing_once(connection, dialect, rows):  # noqa: ANN001, ANN202
        batches.append(len(rows))
        error = next(failures, None)
        if error is not None:
            raise error
        return real(connection, dialect, rows)

    monkeypatch.setattr(inbox_writer, "write_rows", failing_once)
    writer = InboxWriter(engine)

    async def scenario() -> list:
        ids = await store_all(writer, [f"again-{n}" for n in range(5)])
        await writer.close()
        return ids

    with capture_logs() as logs:
        ids = run_async(scenario())
    assert all(isinstance(i, int) for i in ids), ids
    assert batches == [5, 1, 1, 1, 1, 1]
    assert stored_count(engine) == 5
    assert not [entry for entry in logs if entry["log_level"] == "error"]


def test_a_database_that_keeps_failing_fails_each_delivery_once_logged_and_the_writer_goes_on(engine, monkeypatch):
    real = inbox_writer.write_rows
    broken = [True]

    def failing_while_broken(connection, dialect, rows):  # noqa: ANN001, ANN202
        if broken[0]:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(connection, dialect, rows)

    monkeypatch.setattr(inbox_writer, "write_rows", failing_while_broken)
    writer = InboxWriter(engine)

    async def scenario() -> tuple[list, int]:
        failed = await store_all(writer, [f"lost-{n}" for n in range(5)])
        broken[0] = False
        later = await writer.store(row("later"))
        await writer.close()
        return failed, later

    with capture_logs() as logs:
        failed, later = run_async(scenario())
    assert all(isinstance(outcome, InboxWriteError) for outcome in failed)
    assert "disk I/O error" in str(failed[0])
    assert isinstance(later, int)
    assert [r.delivery_id for r in all_rows(engine, WebhookDelivery)] == ["later"]
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert len(errors) == 1 and errors[0]["deliveries"] == 5


def test_one_row_the_database_refuses_fails_alone_and_the_rows_beside_it_are_stored(engine):
    # A dict as delivery id is refused by both drivers (the intake now files only strings; this is
    # the writer's own guard for whatever else a database may refuse in one row).
    writer = InboxWriter(engine)
    bad = {**row("bad"), "delivery_id": {"not": "a string"}}

    async def scenario() -> list:
        good = [writer.store(row(f"good-{n}")) for n in range(50)]
        outcomes = await asyncio.gather(*good[:25], writer.store(bad), *good[25:], return_exceptions=True)
        await writer.close()
        return outcomes

    outcomes = run_async(scenario())
    assert isinstance(outcomes[25], InboxWriteError)
    assert all(isinstance(outcome, int) for index, outcome in enumerate(outcomes) if index != 25)
    assert {r.delivery_id for r in all_rows(engine, WebhookDelivery)} == {f"good-{n}" for n in range(50)}


def test_the_writer_starts_again_after_close(engine):
    writer = InboxWriter(engine)

    async def scenario() -> tuple[int, int]:
        first = await writer.store(row("before"))
        await writer.close()
        second = await writer.store(row("after"))
        await writer.close()
        return first, second

    first, second = run_async(scenario())
    assert second > first
    assert stored_count(engine) == 2


@pytest.fixture
def sqlite_engine(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's; PostgreSQL has no checkpointer")
    return engine


def test_the_wal_is_checkpointed_and_started_over_without_losing_deliveries(sqlite_engine):
    # A small threshold, so a few hundred 28 KB deliveries make the WAL start over several times
    # (bodies that do not compress, so each still takes 7-8 pages). A wave of 20 writes ~160 pages:
    # above the threshold, so a round sees it even when the WAL also starts over between waves.
    writer = InboxWriter(sqlite_engine, checkpoint_pause=0.001, restart_frames=100)
    total = 400

    async def scenario() -> list:
        ids = []
        for start in range(0, total, 20):  # waves of concurrent deliveries while checkpoints run
            ids += await store_all(writer, [f"wal-{n}" for n in range(start, start + 20)], INCOMPRESSIBLE)
        await writer.close()
        return ids

    ids = run_async(scenario())
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == total
    assert stored_count(sqlite_engine) == total
    checkpointer = writer.checkpointer
    assert checkpointer.restarts >= 1
    busy, wal_pages, checkpointed = checkpointer.last  # the final round at close
    assert busy == 0 and checkpointed == wal_pages
    # Each delivery takes 7-8 pages: without a restart the WAL would hold all of them (3,000+).
    assert wal_pages < total * 6, wal_pages


def test_no_connection_can_write_during_the_locked_round(sqlite_engine, monkeypatch):
    # Another process writing to the same file (a second server worker, `flowport worker`) would keep
    # the WAL from starting over: the locked round holds the database's own write lock, not only ours.
    writer = InboxWriter(sqlite_engine, checkpoint_pause=0.001, restart_frames=100)
    other = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None, check_same_thread=False)
    refused: list[bool] = []
    in_locked_round = threading.Event()
    real_checkpoint, real_locked_round = wal_checkpoint._checkpoint, wal_checkpoint.WalCheckpointer._locked_round

    def checkpoint_and_try_to_write(connection):  # noqa: ANN001, ANN202
        if in_locked_round.is_set():
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                refused.append(False)
            except sqlite3.OperationalError:
                refused.append(True)
        return real_checkpoint(connection)

    def flagged_locked_round(self):  # noqa: ANN001, ANN202
        in_locked_round.set()
        try:
            return real_locked_round(self)
        finally:
            in_locked_round.clear()

    monkeypatch.setattr(wal_checkpoint, "_checkpoint", checkpoint_and_try_to_write)
    monkeypatch.setattr(wal_checkpoint.WalCheckpointer, "_locked_round", flagged_locked_round)

    async def scenario() -> None:
        for start in range(0, 200, 20):
            await store_all(writer, [f"lock-{n}" for n in range(start, start + 20)], INCOMPRESSIBLE)
        await writer.close()

    run_async(scenario())
    other.close()
    assert refused and all(refused), refused
    assert stored_count(sqlite_engine) == 200


def test_the_writer_connection_does_not_go_back_to_the_pool_without_automatic_checkpoints(sqlite_engine):
    writer = InboxWriter(sqlite_engine)

    async def scenario() -> None:
        await writer.store(row("one"))
        await writer.close()

    run_async(scenario())
    for _ in range(3):  # whichever pooled connection comes back
        with sqlite_engine.connect() as connection:
            assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 1000
