"""Invariants of the flow metrics over generated request timelines (hypothesis)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from portal.metrics.flow import flow_metrics
from tests.metrics.flow_requests_oracle import request_item
from portal.metrics.window import Window
from portal.requests.stages import DEFAULT_STREAMS, WORK
from tests.metrics.test_value_stream_properties import START, WINDOW, timelines

STREAM = DEFAULT_STREAMS["order"]
WORK_STATES = frozenset(stage.id for stage in STREAM.stages if stage.type == WORK)
STATES = [stage.id for stage in STREAM.stages]


def as_of(histories: list, end) -> list:  # noqa: ANN001
    """The flow items of (flow type, timeline) histories as a query ending at `end` sees them."""
    return [request_item(STREAM, events[0].at, flow_type,
                         [(event.at, event.to_stage, event.work_time_seconds) for event in events if event.at < end])
            for flow_type, events in histories if events[0].at < end]


histories = st.lists(st.tuples(st.sampled_from(["feature", "defect", "risk", "debt"]), timelines()), max_size=12)


@st.composite
def items(draw):  # noqa: ANN201
    return as_of(draw(histories), WINDOW.end)


def _metrics(chosen, window: Window = WINDOW) -> dict:  # noqa: ANN001
    return flow_metrics(chosen, window, work_states=WORK_STATES, states=STATES)


@settings(max_examples=150, deadline=None)
@given(items())
def test_efficiency_is_a_share_and_percentiles_are_ordered(chosen):
    answer = _metrics(chosen)
    ratio = answer["efficiency"]["ratio"]
    assert ratio is None or 0 <= ratio <= 1
    times = answer["flowTime"]
    if times["samples"]:
        assert times["p50"] <= times["p85"] <= times["p95"]
    assert sum(bucket["items"] for bucket in answer["load"]["buckets"]) == answer["load"]["wip"]
    assert sum(week["finished"] for week in answer["velocity"]["weeks"]) == answer["velocity"]["finished"]
    for day in answer["cumulativeFlow"]["days"]:
        # Every item that existed at the day's end is in exactly one state.
        at = day["at"]
        alive = sum(1 for item in chosen if item.created_at.isoformat().replace("+00:00", "Z") < at)
        assert sum(day["counts"].values()) == alive


@settings(max_examples=100, deadline=None)
@given(items(), st.randoms(use_true_random=False))
def test_the_order_of_the_items_does_not_matter(chosen, rng: random.Random):
    shuffled = list(chosen)
    rng.shuffle(shuffled)
    first, second = _metrics(chosen), _metrics(shuffled)
    assert first["flowTime"] == second["flowTime"]
    assert first["velocity"] == second["velocity"]
    assert first["cumulativeFlow"] == second["cumulativeFlow"]
    assert first["load"]["buckets"] == second["load"]["buckets"]
    assert first["efficiency"]["ratio"] == pytest.approx(second["efficiency"]["ratio"]) \
        if first["efficiency"]["ratio"] is not None else second["efficiency"]["ratio"] is None


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(1, 10 * 24 - 1))
def test_a_window_split_in_two_invents_no_finished_items(history, split_hours):
    # Each window is computed as a query for it would: from the history known at its end.
    middle = WINDOW.start + timedelta(hours=split_hours)
    whole = _metrics(as_of(history, WINDOW.end))["velocity"]["finished"]
    first = _metrics(as_of(history, middle), Window(WINDOW.start, middle))["velocity"]["finished"]
    second = _metrics(as_of(history, WINDOW.end), Window(middle, WINDOW.end))["velocity"]["finished"]
    assert first + second == whole


def test_generated_windows_start_after_the_first_items():
    assert START < WINDOW.start  # some generated items exist before the window, some are created in it
