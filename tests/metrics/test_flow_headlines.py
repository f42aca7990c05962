"""The request flow metrics read from the passes the writers keep (portal/metrics/flow_requests.py): the
portfolio's figures by hand on the scenario of test_flow_requests.py, and every figure the same as the
oracle (each request's flow item built from its events) for many scopes and windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete

from portal.metrics.flow_requests import scoped_flow_headlines, scoped_flow_metrics
from tests.metrics import flow_requests_oracle
from portal.metrics.flow_scope import request_scope
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.passes_models import RequestPass
from tests.metrics.flow_factories import hours, make_request
from tests.requests.factories import seed_request_catalog
from tests.metrics.test_flow_requests import scenario  # noqa: F401 - the fixture

HOUR = 3600
MARCH = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def day(month: int, day_of_month: int) -> datetime:
    return datetime(2026, month, day_of_month, tzinfo=UTC)


def test_a_capabilitys_figures_by_hand(session, scenario) -> None:  # noqa: ANN001, F811
    ci = request_scope(session, "capability", "ci-pipeline", None)
    [found] = scoped_flow_headlines(session, [ci], MARCH)
    # Finished in March: R1 (6 h), R2 (3 h, at its first delivery) and R8 (2 h); 4.5 h of work in 11 h.
    assert found["flowTime"] == {"samples": 3, "p50": 3 * HOUR, "p85": pytest.approx(5.1 * HOUR),
                                 "p95": pytest.approx(5.7 * HOUR)}
    assert found["efficiency"] == {"samples": 3, "workTime": 4.5 * HOUR, "flowTime": 11 * HOUR,
                                   "ratio": pytest.approx(4.5 / 11)}
    assert found["load"] == {"wip": 4}  # R3, R8 (back in fulfilling), R7 (delivered at the end), R6


def more_history(session) -> None:  # noqa: ANN001
    """Requests that sit through some windows and move in others, in a product with its own value stream
    and as ideas, so every way a request can be counted is there."""
    # Moves in January and again in mid-March: quiet through February, in progress (fulfilling) in it.
    make_request(session, [(day(1, 5), "submitted"), (day(1, 6), "fulfilling"), (day(3, 15), "delivered")])
    # Delivered in January, reworked in mid-March: in February it sits delivered (no longer in progress).
    make_request(session, [(day(1, 5), "submitted"), (day(1, 7), "delivered"), (day(3, 16), "fulfilling"),
                           (day(3, 18), "delivered", 7200)], flow_item_type="debt")
    # Security platform: its own stage (security-review, work) before fulfilling.
    make_request(session, [(day(2, 10), "submitted"), (day(2, 11), "security-review"), (day(2, 14), "fulfilling"),
                           (day(3, 2), "delivered")], capability="hardened-image", product="security-platform")
    make_request(session, [(day(3, 3), "submitted"), (day(3, 4), "security-review")], capability="hardened-image",
                 product="security-platform")
    # Ideas of the delivery platform.
    make_request(session, [(day(2, 1), "submitted"), (day(2, 20), "in-progress"), (day(3, 5), "released")],
                 capability=None, kind="idea")
    make_request(session, [(day(1, 20), "submitted"), (day(3, 25), "triaged")], capability=None, kind="idea")
    make_request(session, [(hours(5), "submitted"), (hours(6), "delivered"), (hours(7), "in-use")],
                 capability="feature-flags")
    session.commit()


@pytest.mark.parametrize("window", [
    MARCH, Window(day(2, 1), day(3, 1)), Window(day(3, 10), day(3, 20)), Window(day(1, 1), day(4, 30)),
    Window(day(1, 6), day(1, 7)), Window(day(3, 15), day(3, 16)), Window(datetime(2025, 1, 1, tzinfo=UTC), day(1, 1)),
    # Windows that start and end inside a day: the diagram's day ends fall at that time of day.
    Window(datetime(2026, 3, 1, 6, 30, tzinfo=UTC), datetime(2026, 3, 20, 18, tzinfo=UTC)),
    Window(datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=UTC), datetime(2026, 3, 16, 0, 0, 1, tzinfo=UTC)),
    Window(hours(5), hours(6.5)), Window(hours(0.5), hours(30)),
])
def test_the_same_as_the_full_flow_metrics(session, scenario, window) -> None:  # noqa: ANN001, F811
    more_history(session)
    scopes = [request_scope(session, "product", "delivery-platform", None),
              request_scope(session, "product", "delivery-platform", "idea"),
              request_scope(session, "capability", "ci-pipeline", None),
              request_scope(session, "capability", "feature-flags", None),
              request_scope(session, "product", "security-platform", None),
              request_scope(session, "capability", "hardened-image", None)]
    oracle = flow_requests_oracle.scoped_flow_metrics(session, scopes, window)
    assert scoped_flow_metrics(session, scopes, window) == oracle
    expected = [{"flowTime": one["flowTime"], "efficiency": one["efficiency"], "load": {"wip": one["load"]["wip"]}}
                for one in oracle]
    assert scoped_flow_headlines(session, scopes, window) == expected
    assert any(one["load"]["wip"] for one in expected) or window.end <= day(1, 1)  # nothing before 2026


ORDER_STAGES = ["submitted", "awaiting-approval", "fulfilling", "delivered", "in-use", "value-confirmed", "failed",
                "cancelled", "rejected"]
FIRST = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw) -> list[list[tuple]]:
    """Orders created over six weeks, moved between any stages (forward, back, ended and reopened)."""
    items = []
    for _ in range(draw(st.integers(0, 10))):
        at = FIRST + timedelta(minutes=draw(st.integers(0, 42 * 24 * 60)))
        events = [(at, "submitted")]
        for _ in range(draw(st.integers(0, 7))):
            at += timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))
            stage = draw(st.sampled_from([stage for stage in ORDER_STAGES if stage != events[-1][1]]))
            events.append((at, stage, draw(st.one_of(st.none(), st.integers(0, 3 * 24 * 3600)))))
        items.append(events)
    return items


@st.composite
def windows(draw) -> Window:
    start = FIRST + timedelta(seconds=draw(st.integers(0, 50 * 86_400)))
    return Window(start, start + timedelta(seconds=draw(st.integers(1, 40 * 86_400))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=histories(), window=windows())
def test_generated_histories_agree_with_the_oracle(session, items, window) -> None:  # noqa: ANN001
    seed_request_catalog(session)
    session.execute(delete(RequestPass))
    session.execute(delete(RequestEvent))
    session.execute(delete(Request))
    for events in items:
        make_request(session, events)
    session.flush()
    scopes = [request_scope(session, "product", "delivery-platform", None),
              request_scope(session, "capability", "ci-pipeline", None)]
    oracle = flow_requests_oracle.scoped_flow_metrics(session, scopes, window)
    assert scoped_flow_metrics(session, scopes, window) == oracle
