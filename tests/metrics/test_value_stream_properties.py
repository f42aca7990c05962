"""The value stream map over generated timelines (hypothesis): the SQL computation agrees with the
Python oracle, and the invariants hold."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete

from portal.metrics.flow_scope import request_scope
from portal.metrics.value_stream_query import scope_value_stream
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.stages import DEFAULT_STREAMS
from tests.metrics.flow_factories import make_request
from tests.metrics.value_stream_oracle import StageEvent, value_stream_map
from tests.requests.factories import seed_request_catalog

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


@pytest.fixture
def portal_map(session):  # noqa: ANN201
    """`portal_map(items)`: the map the portal computes in SQL for these timelines (orders of ci-pipeline)."""
    seed_request_catalog(session)
    scope = request_scope(session, "capability", "ci-pipeline", None)

    def computed(items: list[list[StageEvent]]) -> dict:
        session.execute(delete(RequestEvent))
        session.execute(delete(Request))
        for events in items:
            make_request(session, [(event.at, event.to_stage, event.work_time_seconds) for event in events])
        session.flush()
        return scope_value_stream(session, scope, WINDOW)

    return computed


def _close(one: object, other: object) -> bool:
    return one == other or (one is not None and other is not None and one == pytest.approx(other))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(timelines(), max_size=12))
def test_sql_agrees_with_the_oracle(portal_map, items):
    computed, expected = portal_map(items), value_stream_map(STREAM, items, WINDOW)
    for mine, theirs in zip(computed["stages"], expected["stages"], strict=True):
        assert mine["id"] == theirs["id"] and mine["items"] == theirs["items"]
        for key in ("leadTime", "processTime", "percentCompleteAccurate"):
            assert _close(mine[key], theirs[key]), (mine, theirs)
    for key, value in computed["totals"].items():
        assert _close(value, expected["totals"][key]), (key, computed["totals"], expected["totals"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(timelines(), max_size=12))
def test_shares_stay_between_zero_and_one_and_totals_add_up(portal_map, items):
    answer = portal_map(items)
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(timelines(), max_size=10), rng=st.randoms(use_true_random=False))
def test_the_order_of_the_items_does_not_matter(portal_map, items, rng: random.Random):
    shuffled = list(items)
    rng.shuffle(shuffled)
    first, second = portal_map(items), portal_map(shuffled)
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(straight_through(), min_size=1, max_size=10))
def test_stage_lead_times_add_up_to_the_mean_lead_time_of_items_that_pass_every_stage(portal_map, items):
    # Every stage but the last is left by every item; the last one is never left, so it has no values.
    answer = portal_map(items)
    lead_times = [(item[-1].at - item[0].at).total_seconds() for item in items]
    assert answer["totals"]["leadTime"] == pytest.approx(sum(lead_times) / len(lead_times))
    assert all(stage["percentCompleteAccurate"] in (1.0, None) for stage in answer["stages"])
