"""read_summaries answers many single-component reads at once exactly as read_summary answers each alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, select
from sqlmodel import Session

from portal.metrics import dora_samples
from portal.metrics.dora_rollup import bring_up_to_date
from portal.metrics.dora_rollup_models import DoraSample
from portal.metrics.dora_samples import read_summaries, read_summary
from portal.metrics.entities import component_links
from portal.metrics.window import Window
from portal.planner_statistics import refresh_planner_statistics
from tests.flow.factories import GITHUB, PAGERDUTY, change, deployment, incident, make_component, save

BASE = datetime(2024, 3, 1, tzinfo=UTC)
A, B, QUIET, UNKNOWN = (f"component:default/{name}" for name in ("ba", "bb", "bquiet", "bunknown"))
KINDS = ("deployment", "failure", "lead", "incident")


def _hours(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def one_by_one(session, wanted: list[tuple[str, Window]]) -> list:
    return [read_summary(session, {ref: []}, window) for ref, window in wanted]


@pytest.fixture
def rollup(session):
    """Two components with every kind of sample, one with no records, built into the rollup."""
    make_component(session, "ba", {GITHUB: "acme/ba", PAGERDUTY: "PBA"})
    make_component(session, "bb", {GITHUB: "acme/bb"})
    make_component(session, "bquiet", {GITHUB: "acme/bquiet"})
    # Deployments finish 5 minutes after they start; 7 failed and 8 is not production: neither counts.
    save(session, [
        *(deployment("acme/ba", number, "production", _hours(10 * number)) for number in range(1, 7)),
        deployment("acme/ba", 7, "production", _hours(70), status="failure"),
        deployment("acme/ba", 8, "staging", _hours(75)),
        *(deployment("acme/bb", 10 + number, "production", _hours(10 * number + 5)) for number in range(1, 5)),
        # Shipped by deployments 2, 4 and 12 (their shas); 3's sha was never deployed: the first after its merge, 6.
        change("acme/ba", 1, _hours(5), state="merged", merged_at=_hours(15), merge_sha=f"{2:040x}",
               first_commit_at=_hours(1)),
        change("acme/ba", 2, _hours(22), state="merged", merged_at=_hours(30), merge_sha=f"{4:040x}"),
        change("acme/ba", 3, _hours(40), state="merged", merged_at=_hours(51), merge_sha="e" * 40),
        change("acme/bb", 1, _hours(10), state="merged", merged_at=_hours(20), merge_sha=f"{12:040x}"),
        # Incidents 1 and 2 fail deployment 2 (once), 3 and 4 deployment 5; 4 is never resolved.
        incident("PBA", 1, _hours(21), status="resolved", resolved_at=_hours(23)),
        incident("PBA", 2, _hours(22), status="resolved", resolved_at=_hours(29)),
        incident("PBA", 3, _hours(52), status="resolved", resolved_at=_hours(61)),
        incident("PBA", 4, _hours(53)),
    ])
    bring_up_to_date(session, component_links(session, [A, B, QUIET]))
    session.commit()
    return session


def test_every_window_between_sample_times_matches_reading_each_alone(rollup):
    """Windows from one sample's time to another's: each starts on a sample (which counts) and ends on one
    (which does not); more items than a statement takes, so the batches are split too."""
    times = sorted(set(rollup.execute(select(DoraSample.at)).scalars()))
    assert set(rollup.execute(select(DoraSample.kind)).scalars()) == set(KINDS)
    windows = [Window(start, end) for start, end in combinations(times, 2)]
    wanted = [(ref, window) for window in windows for ref in (A, B, QUIET)]
    assert len(wanted) > dora_samples.BATCH
    assert read_summaries(rollup, wanted) == one_by_one(rollup, wanted)


def test_repeated_components_and_windows_each_get_their_answer(rollup, monkeypatch):
    everything = Window(BASE - timedelta(days=1), BASE + timedelta(days=10))
    early, late = Window(_hours(10), _hours(40)), Window(_hours(40), _hours(90))
    wanted = [(A, early), (B, everything), (A, late), (QUIET, everything), (A, early), (UNKNOWN, everything),
              (A, everything), (B, Window(_hours(1000), _hours(1001)))]
    expected = one_by_one(rollup, wanted)
    assert expected[0] == expected[4] and expected[0] != expected[2]
    assert expected[6].deployments == 6 and expected[6].failed == 2 and expected[6].lead_times.total.samples == 3
    assert read_summaries(rollup, wanted) == expected
    monkeypatch.setattr(dora_samples, "BATCH", 3)  # items split across statements keep their places
    assert read_summaries(rollup, wanted) == expected
    assert read_summaries(rollup, wanted[:1]) == expected[:1]
    assert read_summaries(rollup, []) == []


def _fill_rollup(engine, components: int, per_kind: int) -> None:  # noqa: ANN001
    """Samples of every kind for many components, a few hours apart, then the planner's statistics."""
    rows = [{"component_ref": f"component:default/fill-{number:03d}", "kind": kind, "at": _hours(3 * index + number % 3),
             "sample_id": f"{kind}-{number}-{index}", "day": index, "deployment_id": f"d{index}", "seconds": float(index),
             "coding_seconds": 1.0, "recovery_seconds": 2.0}
            for number in range(components) for kind in KINDS for index in range(per_kind)]
    with engine.begin() as connection:
        connection.execute(insert(DoraSample), rows)
    if not refresh_planner_statistics(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE metrics_dora_samples")


def test_the_batched_statements_seek_the_rollup_key(engine):
    """Each item seeks its component's and kind's range of `at` in the rollup's key (component, kind, at)
    rather than the rollup being scanned for the items."""
    _fill_rollup(engine, components=200, per_kind=25)
    wanted = [(f"component:default/fill-{number:03d}", Window(_hours(hours), _hours(hours + 30)))
              for number in range(0, 200, 4) for hours in (10, 40)]
    with Session(engine) as session:
        seen = _statements_of(session.connection(), lambda: read_summaries(session, wanted))
        assert len(seen) == 4
        for sql, parameters in seen:
            plan = _explain(session.connection(), sql, parameters)
            if engine.dialect.name == "sqlite":
                assert "SEARCH metrics_dora_samples USING PRIMARY KEY (component_ref=? AND kind=? AND at>? AND at<?)" \
                       in plan and "SCAN metrics_dora_samples" not in plan, plan
            else:
                # PostgreSQL chooses between probing the key per item and hashing the items against the kind's
                # rows by the table's size (a test's few thousand rows are hashed): a probe must be an index
                # range of the key, not a scan of the component's rows.
                probe = plan.partition("Scan using metrics_dora_samples_pkey on metrics_dora_samples")[2]
                condition = probe.partition("Index Cond: ")[2].partition("  ")[0]
                assert all(part in condition for part in ("(component_ref)", "(kind)", "(at >=", "(at <")), plan


def _statements_of(connection, run) -> list[tuple[str, object]]:  # noqa: ANN001
    """The statements `run` sends through the connection's engine, with their parameters."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        seen.append((statement, parameters))

    event.listen(connection.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(connection.engine, "before_cursor_execute", record)
    return seen


def _explain(connection, sql: str, parameters) -> str:  # noqa: ANN001
    """The statement's plan on one line; on PostgreSQL the plan that probes the rollup per item."""
    prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "enable_bitmapscan"):
                cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(prefix + sql, parameters)
        return " ".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        cursor.close()


# Generated samples of two components, every kind, on an hourly grid that the windows' ends fall on too.
hours = st.integers(0, 40)
seconds = st.none() | st.integers(0, 10_000).map(float)
samples = st.lists(st.tuples(st.sampled_from([A, B]), st.sampled_from(KINDS), st.integers(0, 30), hours,
                             st.sampled_from(["d1", "d2", "d3"]), seconds, seconds, seconds, seconds, seconds),
                   max_size=40, unique_by=lambda row: row[:3])
windows = st.tuples(hours, st.integers(1, 41)).map(lambda pair: Window(_hours(pair[0]), _hours(pair[0] + pair[1])))
# Components with and without samples, the same one or the same item more than once.
wanted_items = st.lists(st.tuples(st.sampled_from([A, B, QUIET]), windows), min_size=1, max_size=8)


def _rows(generated) -> list[dict]:  # noqa: ANN001
    """Rollup rows; each kind's reader looks only at its own columns, so every row carries all of them."""
    return [{"component_ref": ref, "kind": kind, "at": _hours(hour), "sample_id": f"{kind}-{number}", "day": hour // 24,
             "deployment_id": deployment_id, "seconds": total, "coding_seconds": coding, "review_seconds": review,
             "deploy_seconds": deploy, "recovery_seconds": recovery}
            for ref, kind, number, hour, deployment_id, total, coding, review, deploy, recovery in generated]


def test_batched_reads_equal_reads_one_by_one_on_generated_samples(session):
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(samples, wanted_items)
    def check(generated, wanted):  # noqa: ANN001
        session.execute(delete(DoraSample))
        if generated:
            session.execute(insert(DoraSample), _rows(generated))
        assert read_summaries(session, wanted) == one_by_one(session, wanted)

    try:
        check()
    finally:
        session.rollback()
