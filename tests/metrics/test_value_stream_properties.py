"""Invariants of the value stream map over generated timelines (hypothesis)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from portal.metrics.value_stream import StageEvent, value_stream_map
from portal.metrics.window import Window
from portal.requests.stages import DEFAULT_STREAMS

STREAM = DEFAULT_STREAMS["order"]
ALL_STAGES = [stage.id for stage in STREAM.stages]
START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = Window(START + timedelta(days=2), START + timedelta(days=12))


@st.composite
def timelines(draw, stages=ALL_STAGES) -> list[StageEvent]:  # noqa: ANN001
    """A request created some time in the first fortnight, then moved between any stages."""
    at = START + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
    events = [StageEvent(at, "submitted")]
    for _ in range(draw(st.integers(0, 8))):
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        target = draw(st.sampled_from([stage for stage in stages if stage != events[-1].to_stage]))
        work = draw(st.one_of(st.none(), st.integers(0, 5 * 24 * 3600)))
        events.append(StageEvent(at, target, work))
    return events


@settings(max_examples=150, deadline=None)
@given(st.lists(timelines(), max_size=12))
def test_shares_stay_between_zero_and_one_and_totals_add_up(items):
    answer = value_stream_map(STREAM, items, WINDOW)
    stages, totals = answer["stages"], answer["totals"]
    for stage in stages:
        if stage["items"]:
            assert 0 <= stage["processTime"] <= stage["leadTime"]
        else:
            assert stage["leadTime"] is None and stage["processTime"] is None
        share = stage["percentCompleteAccurate"]
        assert share is None or 0 <= share <= 1
    accurate = [stage["percentCompleteAccurate"] for stage in stages if stage["percentCompleteAccurate"] is not None]
    if accurate:
        assert totals["rolledPercentCompleteAccurate"] == pytest.approx(math.prod(accurate))
        assert totals["rolledPercentCompleteAccurate"] <= min(accurate)
    else:
        assert totals["rolledPercentCompleteAccurate"] is None
    lead = sum(stage["leadTime"] or 0 for stage in stages)
    process = sum(stage["processTime"] or 0 for stage in stages)
    if totals["leadTime"]:
        assert totals["activityRatio"] == pytest.approx(process / lead)
        assert 0 <= totals["activityRatio"] <= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(timelines(), max_size=10), st.randoms(use_true_random=False))
def test_the_order_of_the_items_does_not_matter(items, rng: random.Random):
    shuffled = list(items)
    rng.shuffle(shuffled)
    first, second = value_stream_map(STREAM, items, WINDOW), value_stream_map(STREAM, shuffled, WINDOW)
    for one, other in zip(first["stages"], second["stages"], strict=True):
        assert one["items"] == other["items"]
        assert one["percentCompleteAccurate"] == other["percentCompleteAccurate"]
        for key in ("leadTime", "processTime"):
            assert one[key] == other[key] or one[key] == pytest.approx(other[key])


@st.composite
def straight_through(draw) -> list[StageEvent]:
    """An item that passes every main-line stage once, all inside the window."""
    at = WINDOW.start + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    events = [StageEvent(at, STREAM.main_line[0])]
    for stage in STREAM.main_line[1:]:
        at += timedelta(minutes=draw(st.integers(0, 12 * 60)))
        events.append(StageEvent(at, stage, draw(st.one_of(st.none(), st.integers(0, 3600)))))
    return events


@settings(max_examples=100, deadline=None)
@given(st.lists(straight_through(), min_size=1, max_size=10))
def test_stage_lead_times_add_up_to_the_mean_lead_time_of_items_that_pass_every_stage(items):
    # Every stage but the last is left by every item; the last one is never left, so it has no values.
    answer = value_stream_map(STREAM, items, WINDOW)
    lead_times = [(item[-1].at - item[0].at).total_seconds() for item in items]
    assert answer["totals"]["leadTime"] == pytest.approx(sum(lead_times) / len(lead_times))
    assert all(stage["percentCompleteAccurate"] in (1.0, None) for stage in answer["stages"])
