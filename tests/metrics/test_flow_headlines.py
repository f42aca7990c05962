"""The portfolio's flow figures (portal/metrics/flow_headlines.py): by hand on the scenario of
test_flow_requests.py, and the same as the full flow metrics for many scopes and windows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.metrics.flow_headlines import scoped_flow_headlines
from portal.metrics.flow_requests import scoped_flow_metrics
from portal.metrics.flow_scope import request_scope
from portal.metrics.window import Window
from tests.metrics.flow_factories import hours, make_request
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
])
def test_the_same_as_the_full_flow_metrics(session, scenario, window) -> None:  # noqa: ANN001, F811
    more_history(session)
    scopes = [request_scope(session, "product", "delivery-platform", None),
              request_scope(session, "product", "delivery-platform", "idea"),
              request_scope(session, "capability", "ci-pipeline", None),
              request_scope(session, "capability", "feature-flags", None),
              request_scope(session, "product", "security-platform", None),
              request_scope(session, "capability", "hardened-image", None)]
    full = scoped_flow_metrics(session, scopes, window)
    expected = [{"flowTime": one["flowTime"], "efficiency": one["efficiency"], "load": {"wip": one["load"]["wip"]}}
                for one in full]
    assert scoped_flow_headlines(session, scopes, window) == expected
    assert any(one["load"]["wip"] for one in expected) or window.end <= day(1, 1)  # nothing before 2026
