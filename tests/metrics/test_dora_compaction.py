"""Compacting the flow link change log never takes a change from a component that has not consumed it,
not even from one whose first build is still in flight (its state row is invisible to others until it
commits). On PostgreSQL two sessions are interleaved step by step; on SQLite the test shows why the
interleaving cannot happen there."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from portal.flow.link_changes import FlowLinkChange, latest_change_id
from portal.flow.writer import write_records
from portal.metrics.api_dora import dora_of_components
from portal.metrics.dora_refresher import refresh_round
from portal.metrics.dora_rollup import Plan, apply, bring_up_to_date, compact_change_log
from portal.metrics.entities import component_links
from portal.metrics.window import Window
from tests.flow.factories import GITHUB, deployment, make_component

BASE = datetime(2024, 3, 1, tzinfo=UTC)
# Far enough apart that rebuilding from the later deployment's change (90 days back) misses the earlier one.
LATER = BASE + timedelta(days=200)
EVERYTHING = Window(BASE - timedelta(days=30), LATER + timedelta(days=30))


def _component(session: Session, name: str) -> str:
    make_component(session, name, {GITHUB: f"acme/{name}"})
    return f"component:default/{name}"


def _deployments(session: Session, ref: str) -> int:
    """Deployments of the component as a read answers them (bringing the rollup up to date first)."""
    answer = dora_of_components(session, component_links(session, [ref]), EVERYTHING, "2023")
    session.commit()
    return answer["deploymentFrequency"]["samples"]


def _write(engine, repo: str, number: int, at: datetime) -> None:
    """One production deployment, written and committed in a transaction of its own."""
    with Session(engine) as writer:
        write_records(writer, [deployment(repo, number, "production", at)])
        writer.commit()


def test_a_change_logged_after_the_log_was_compacted_is_seen(session, engine):
    """SQLite numbers a row one past the highest id in the table: an emptied log would number the next
    change 1, which every component has consumed already."""
    ref = _component(session, "ca")
    for number in range(1, 4):
        _write(engine, "acme/ca", number, BASE + timedelta(hours=number))
    assert _deployments(session, ref) == 3
    refresh_round(engine)
    newest = session.execute(select(FlowLinkChange.id)).scalars().all()
    _write(engine, "acme/ca", 4, LATER)
    session.expire_all()
    assert session.execute(select(FlowLinkChange.id)).scalars().all() == [*newest, newest[-1] + 1]
    assert _deployments(session, ref) == 4


def _postgresql_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: see the SQLite test below")


def _sessions_waiting_for_a_lock(observer: Session) -> int:
    """Sessions of this test database waiting for a row, transaction or advisory lock."""
    return observer.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    ).scalar_one()


def test_on_postgresql_compaction_keeps_what_a_first_build_in_flight_has_not_seen(session, engine):
    """A first build reads the records, two writes commit after it, the refresher compacts, then the
    build commits as of the change it started from: the two changes must still be there for it."""
    _postgresql_only(engine)
    ref = _component(session, "fa")
    _write(engine, "acme/fa", 1, BASE)
    with Session(engine) as builder:
        # First build: its state row exists only in this transaction until it commits.
        assert bring_up_to_date(builder, component_links(builder, [ref])) == 1
        _write(engine, "acme/fa", 2, BASE + timedelta(hours=1))
        _write(engine, "acme/fa", 3, LATER)
        # No component is built as far as the refresher can see (and it builds none itself here). In a
        # thread of its own, so a round that waited for the build would fail this test, not hang it.
        rounds: list[int] = []
        thread = threading.Thread(target=lambda: rounds.append(refresh_round(engine, new_components=0)))
        thread.start()
        thread.join(30)
        assert rounds == [0]
        builder.commit()
    assert _deployments(session, ref) == 3


def test_on_postgresql_the_refresher_does_not_advance_a_component_first_built_during_its_round(session, engine):
    """The refresher lists the components changes touched, rebuilds them, then marks every other built
    component current: a component whose first build was in flight when it listed them (and committed
    before it marks the others) is not on its list, yet the changes after its build touch it."""
    _postgresql_only(engine)
    built, fresh = _component(session, "rb"), _component(session, "rf")
    _write(engine, "acme/rb", 1, BASE)
    _write(engine, "acme/rf", 2, BASE)
    assert _deployments(session, built) == 1
    rounds: list[int] = []
    with Session(engine) as builder:
        latest = latest_change_id(builder)
        links = component_links(builder, [built, fresh])
        # Holds rb's state row, so the round's rebuild of rb waits for this transaction: that pins
        # the round between listing the touched components and marking the others.
        apply(builder, Plan(built, tuple(links[built]), None), latest, force=True)
        apply(builder, Plan(fresh, tuple(links[fresh]), None), latest)
        _write(engine, "acme/rb", 3, BASE + timedelta(hours=1))
        _write(engine, "acme/rf", 4, BASE + timedelta(hours=1))
        _write(engine, "acme/rf", 5, LATER)
        thread = threading.Thread(target=lambda: rounds.append(refresh_round(engine, new_components=0)))
        thread.start()
        with Session(engine) as observer:
            waiting = 0
            for _ in range(200):  # until the round waits for rb's state row (at most ~10 s)
                waiting = _sessions_waiting_for_a_lock(observer)
                if waiting:
                    break
                threading.Event().wait(0.05)
        assert waiting == 1 and not rounds
        builder.commit()
    thread.join(30)
    assert rounds == [1]
    assert _deployments(session, fresh) == 3
    assert _deployments(session, built) == 2


def test_on_sqlite_nothing_commits_while_a_first_build_is_in_flight(session, engine, database_url):
    """Why the race cannot happen on SQLite: a build writes its state row, and so takes the one write lock,
    before it reads a record, and holds it to its commit: neither a flow write nor the compaction can
    commit in between, and what committed before, the build reads."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL is covered by the interleaving tests above")
    ref = _component(session, "fs")
    _write(engine, "acme/fs", 1, BASE)
    # A second connection that gives up at once instead of waiting for the write lock.
    impatient = create_engine(database_url, connect_args={"timeout": 0})
    attempts: list[str] = []

    def write_as_the_build_reads_its_deployments(_connection, _cursor, statement, *_) -> None:  # noqa: ANN001
        if "flow_deployments" not in statement or attempts:
            return
        with Session(impatient) as writer:
            try:
                write_records(writer, [deployment("acme/fs", 2, "production", LATER)])
                writer.commit()
                attempts.append("committed")
            except OperationalError as error:
                attempts.append(str(error.orig))

    try:
        with Session(engine) as builder:
            connection = builder.connection()
            event.listen(connection, "before_cursor_execute", write_as_the_build_reads_its_deployments)
            assert bring_up_to_date(builder, component_links(builder, [ref])) == 1
            event.remove(connection, "before_cursor_execute", write_as_the_build_reads_its_deployments)
            assert attempts == ["database is locked"]
            with Session(impatient) as compactor, pytest.raises(OperationalError, match="locked"):
                compact_change_log(compactor, latest_change_id(compactor))
            builder.commit()
    finally:
        impatient.dispose()
    _write(engine, "acme/fs", 2, LATER)
    refresh_round(engine, new_components=0)
    assert _deployments(session, ref) == 2
