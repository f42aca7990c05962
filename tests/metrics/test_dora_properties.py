"""Invariants of the DORA rules over generated records (hypothesis)."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.metrics.dora import collect_samples, dora_metrics
from portal.metrics.dora_records import Change, ComponentRecords, Deployment, Incident
from portal.metrics.window import Window

BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 60 * 24 * 60  # records spread over 60 days
minutes = st.integers(min_value=0, max_value=SPAN_MINUTES)
shas = st.sampled_from(["a1", "b2", "c3", "d4", None])
repositories = st.sampled_from(["acme/shop", "ACME/Shop", "acme/other", None])


def _at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


deployments = st.lists(st.builds(lambda i, m, sha, repo: Deployment(f"d{i}", repo, sha, _at(m)),
                                 st.integers(0, 10_000), minutes, shas, repositories),
                       max_size=25, unique_by=lambda d: d.id)
incidents = st.lists(st.builds(lambda i, m, fix: Incident(f"i{i}", _at(m), _at(m + fix) if fix is not None else None),
                               st.integers(0, 10_000), minutes, st.none() | st.integers(0, 5_000)),
                     max_size=15, unique_by=lambda i: i.id)
changes = st.lists(st.builds(
    lambda i, opened, coding, merge, sha, repo: Change(
        f"c{i}", repo or "acme/shop", _at(opened), _at(opened - coding) if coding is not None else None,
        _at(opened + merge), sha),
    st.integers(0, 10_000), minutes, st.none() | st.integers(0, 3_000), st.integers(0, 3_000), shas, repositories),
    max_size=15, unique_by=lambda c: c.id)


@st.composite
def components(draw) -> dict[str, ComponentRecords]:
    """One pool of records shared out among up to three components: a record two components claim is
    the same record (the same id always means the same data), as when both claim one repository."""
    pool = ComponentRecords(draw(deployments), draw(changes), draw(incidents))
    found = {}
    for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True)):
        found[name] = ComponentRecords(*(draw(st.lists(st.sampled_from(items), unique_by=lambda r: r.id))
                                         if items else [] for items in (pool.deployments, pool.changes,
                                                                        pool.incidents)))
    return found


@st.composite
def windows(draw) -> Window:
    start = draw(st.integers(0, SPAN_MINUTES - 1))
    end = draw(st.integers(start + 1, SPAN_MINUTES + 1))
    return Window(_at(start), _at(end))


def _shuffled(records: dict[str, ComponentRecords], seed: int) -> dict[str, ComponentRecords]:
    rng = random.Random(seed)
    mixed = {}
    for name in rng.sample(list(records), len(records)):
        item = records[name]
        mixed[name] = ComponentRecords(rng.sample(item.deployments, len(item.deployments)),
                                       rng.sample(item.changes, len(item.changes)),
                                       rng.sample(item.incidents, len(item.incidents)))
    return mixed


@settings(max_examples=100, deadline=None)
@given(components(), windows(), st.integers(0, 2**32))
def test_metrics_do_not_depend_on_the_order_of_the_records(records, window, seed):
    assert dora_metrics(collect_samples(records, window), window, "2023") == \
        dora_metrics(collect_samples(_shuffled(records, seed), window), window, "2023")


@settings(max_examples=100, deadline=None)
@given(components(), windows(), st.floats(0.0, 1.0))
def test_splitting_a_window_never_invents_or_loses_deployments(records, window, share):
    cut = window.start + (window.end - window.start) * share
    whole = collect_samples(records, window)
    parts = [collect_samples(records, part) for part in (Window(window.start, cut), Window(cut, window.end))
             if part.start < part.end]
    assert sum(len(part.deployments) for part in parts) == len(whole.deployments)
    assert set().union(*(part.deployments for part in parts)) == set(whole.deployments)
    # Each change is shipped once, so its lead time falls in exactly one half too.
    assert sum(len(part.lead_times) for part in parts) == len(whole.lead_times)


@settings(max_examples=100, deadline=None)
@given(components(), windows())
def test_failure_rate_is_a_ratio_and_times_are_not_negative(records, window):
    metrics = dora_metrics(collect_samples(records, window), window, "2023")
    rate = metrics["changeFailureRate"]
    assert rate["failedDeployments"] <= rate["samples"]
    assert rate["value"] is None or 0.0 <= rate["value"] <= 1.0
    for name in ("leadTimeForChanges", "failedDeploymentRecoveryTime", "timeToRestore"):
        assert metrics[name]["value"] is None or metrics[name]["value"] >= 0
    assert all(part["value"] is None or part["value"] >= 0
               for part in metrics["leadTimeForChanges"]["breakdown"].values())
