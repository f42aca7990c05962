"""The value stream map on a small scenario whose every number is computed by hand (see each test)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.metrics.flow_scope import request_scope
from portal.metrics.value_stream_query import scope_value_stream
from portal.metrics.window import Window
from portal.requests.stages import DEFAULT_STREAMS
from tests.metrics.flow_factories import WINDOW, hours, make_request
from tests.metrics.value_stream_oracle import StageEvent, value_stream_map
from tests.requests.factories import seed_request_catalog

HOUR = 3600
ORDER_STREAM = DEFAULT_STREAMS["order"]
MARCH = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

# Hours after T0 (2026-03-02T00:00Z); the window is March 2026.
ITEM_A = [(hours(0), "submitted"), (hours(2), "awaiting-approval"), (hours(5), "fulfilling"),
          (hours(9), "delivered", HOUR), (hours(10), "in-use")]  # workTime 1 h on the move ending fulfilling
ITEM_B = [(hours(0), "submitted"), (hours(1), "fulfilling"),  # skips awaiting-approval
          (hours(3), "delivered"), (hours(4), "fulfilling"),  # rework: back from delivered
          (hours(5), "delivered", 1800), (hours(7), "in-use")]  # a task that ran 30 min
ITEM_C = [(hours(0), "submitted"), (hours(4), "awaiting-approval"),
          (hours(6), "fulfilling", 600)]  # 10 min of work recorded on a wait stage; still fulfilling at the end
ITEM_E = [(hours(-26), "submitted"), (hours(0), "awaiting-approval")]  # entered before the window
ITEM_OLD = [(hours(-24 * 30), "submitted"), (hours(-24 * 29), "fulfilling")]  # all before the window
ITEM_LATE = [(hours(0), "submitted"), (datetime(2026, 4, 1, tzinfo=UTC), "fulfilling")]  # leaves at `until`

# By hand:
# submitted:          A 2 h, B 1 h, C 4 h, E 26 h -> LT 33/4 h = 29,700 s; PT 0 (wait); 4 forward exits, all kept
# awaiting-approval:  A 3 h (PT 0), C 2 h (PT 600 s)  -> LT 2.5 h = 9,000 s; PT 300 s; %C&A 1
# fulfilling:         A 4 h (PT 1 h), B 2 h + 1 h (PT 2 h unrecorded + 30 min) -> LT 3.5 h = 12,600 s,
#                     PT (1 + 2.5)/2 h = 6,300 s; forward exits A@9, B@3 (B came back at 4), B@5 -> 2/3
# delivered:          A 1 h, B 1 h + 2 h -> LT 2 h = 7,200 s, PT 0; exits to in-use both kept -> 1
# in-use, value-confirmed: nobody left them -> 0 items, nulls
# totals: LT 58,500 s, PT 6,600 s, activity ratio 6,600/58,500, rolled %C&A 1 · 1 · 2/3 · 1 = 2/3
EXPECTED = [
    {"id": "submitted", "type": "wait", "items": 4, "leadTime": 29_700, "processTime": 0,
     "percentCompleteAccurate": 1.0},
    {"id": "awaiting-approval", "type": "wait", "items": 2, "leadTime": 9_000, "processTime": 300,
     "percentCompleteAccurate": 1.0},
    {"id": "fulfilling", "type": "work", "items": 2, "leadTime": 12_600, "processTime": 6_300,
     "percentCompleteAccurate": pytest.approx(2 / 3)},
    {"id": "delivered", "type": "wait", "items": 2, "leadTime": 7_200, "processTime": 0,
     "percentCompleteAccurate": 1.0},
    {"id": "in-use", "type": "wait", "items": 0, "leadTime": None, "processTime": None,
     "percentCompleteAccurate": None},
    {"id": "value-confirmed", "type": "wait", "items": 0, "leadTime": None, "processTime": None,
     "percentCompleteAccurate": None},
]
EXPECTED_TOTALS = {"leadTime": 58_500, "processTime": 6_600, "activityRatio": pytest.approx(6_600 / 58_500),
                   "rolledPercentCompleteAccurate": pytest.approx(2 / 3)}
SCENARIO = [ITEM_A, ITEM_B, ITEM_C, ITEM_E, ITEM_OLD, ITEM_LATE]


def _timeline(events: list[tuple]) -> list[StageEvent]:
    return [StageEvent(*event) for event in events]


def _stages(session, items: list[list[tuple]]) -> dict:  # noqa: ANN001
    """The map the portal computes (in SQL) for these orders of ci-pipeline, by stage id."""
    seed_request_catalog(session)
    for events in items:
        make_request(session, events)
    session.flush()
    answer = scope_value_stream(session, request_scope(session, "capability", "ci-pipeline", None), MARCH)
    return {stage["id"]: stage for stage in answer["stages"]}


def test_the_oracle_agrees_with_the_hand_computed_scenario():
    answer = value_stream_map(ORDER_STREAM, [_timeline(item) for item in SCENARIO], MARCH)
    assert answer["stages"] == EXPECTED
    assert answer["totals"] == EXPECTED_TOTALS


def test_events_after_the_window_do_not_change_it(session):
    later = ITEM_C + [(datetime(2026, 4, 2, tzinfo=UTC), "submitted")]  # rework after the window's end
    stages = _stages(session, [*SCENARIO[:2], later, *SCENARIO[3:]])
    assert list(stages.values()) == EXPECTED


def test_work_recorded_longer_than_the_pass_counts_as_the_whole_pass(session):
    item = [(hours(0), "submitted"), (hours(1), "fulfilling"), (hours(2), "delivered", 5 * HOUR)]
    assert _stages(session, [item])["fulfilling"]["processTime"] == HOUR


def test_moving_to_a_terminal_stage_ends_the_pass_without_a_forward_exit(session):
    stages = _stages(session, [[(hours(0), "submitted"), (hours(3), "cancelled")]])
    assert stages["submitted"]["items"] == 1 and stages["submitted"]["leadTime"] == 3 * HOUR
    assert stages["submitted"]["percentCompleteAccurate"] is None
    assert "cancelled" not in stages


def test_a_retried_failure_is_a_return_that_lowers_the_earlier_stage(session):
    item = [(hours(0), "submitted"), (hours(1), "fulfilling"), (hours(2), "failed"), (hours(3), "submitted"),
            (hours(4), "fulfilling"), (hours(5), "delivered")]
    stages = _stages(session, [item])
    # submitted: exits at 1 h (came back at 3 h) and 4 h (never came back) -> 1/2; time 1 h + 1 h
    assert stages["submitted"]["percentCompleteAccurate"] == 0.5
    assert stages["submitted"]["leadTime"] == 2 * HOUR
    assert stages["fulfilling"]["leadTime"] == 2 * HOUR and stages["fulfilling"]["items"] == 1


def test_events_at_the_same_moment_keep_their_order(session):
    # A move straight through approval in the same second: a zero-length pass, still a pass.
    item = [(hours(0), "submitted"), (hours(1), "awaiting-approval"), (hours(1), "fulfilling"), (hours(3), "delivered")]
    stages = _stages(session, [item])
    assert stages["awaiting-approval"]["items"] == 1 and stages["awaiting-approval"]["leadTime"] == 0
    assert stages["fulfilling"]["leadTime"] == 2 * HOUR


@pytest.fixture
def scenario(session):
    seed_request_catalog(session)
    for events in SCENARIO:
        make_request(session, events)
    # Not in the capability's map: another capability's order, and an idea for the same product.
    make_request(session, ITEM_A, capability="feature-flags")
    make_request(session, [(hours(0), "submitted"), (hours(5), "triaged")], capability=None, kind="idea")
    session.commit()


def test_api_answers_the_hand_computed_map(client, scenario):
    response = client.get("/api/v1/metrics/value-stream", params={"capability": "ci-pipeline", **WINDOW})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stages"] == EXPECTED
    assert body["totals"] == EXPECTED_TOTALS
    assert body["capability"] == "capability:default/ci-pipeline" and body["kind"] == "order"
    assert body["window"] == {"from": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}


def test_product_map_covers_every_capabilitys_orders(client, scenario):
    response = client.get("/api/v1/metrics/value-stream", params={"product": "delivery-platform", **WINDOW})
    fulfilling = next(stage for stage in response.json()["stages"] if stage["id"] == "fulfilling")
    # A, B and the feature-flags copy of A: (4 + 3 + 4) / 3 h
    assert fulfilling["items"] == 3 and fulfilling["leadTime"] == pytest.approx(11 * HOUR / 3)


def test_product_ideas_follow_the_products_own_stage_order(client, session):
    seed_request_catalog(session)
    make_request(session, [(hours(0), "submitted"), (hours(2), "discovery"), (hours(6), "released")],
                 capability=None, product="runtime-platform", kind="idea")
    session.commit()
    response = client.get("/api/v1/metrics/value-stream",
                          params={"product": "runtime-platform", "kind": "idea", **WINDOW})
    stages = response.json()["stages"]
    assert [(stage["id"], stage["type"]) for stage in stages] == [
        ("submitted", "wait"), ("discovery", "work"), ("released", "wait")]
    assert stages[1]["leadTime"] == stages[1]["processTime"] == 4 * HOUR
    assert response.json()["totals"]["activityRatio"] == pytest.approx(4 / 6)


def test_no_items_gives_nulls_not_zeros(client, session):
    seed_request_catalog(session)
    response = client.get("/api/v1/metrics/value-stream", params={"capability": "feature-flags", **WINDOW})
    body = response.json()
    assert all(stage["items"] == 0 and stage["leadTime"] is None for stage in body["stages"])
    assert body["totals"] == {"leadTime": None, "processTime": None, "activityRatio": None,
                              "rolledPercentCompleteAccurate": None}
