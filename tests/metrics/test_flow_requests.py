"""Flow metrics of a capability's requests on a small scenario computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.metrics.flow_factories import WINDOW, hours, make_request
from tests.requests.factories import seed_request_catalog

HOUR, DAY = 3600, 86_400
URL = "/api/v1/metrics/flow"


@pytest.fixture
def scenario(session):
    seed_request_catalog(session)
    # R1: delivered after 6 h, 4 of them fulfilling (a work stage, nothing recorded).
    make_request(session, [(hours(0), "submitted"), (hours(2), "fulfilling"), (hours(6), "delivered")])
    # R2: delivered at 3 h (30 min recorded), reopened at 4 h, delivered again at 10 h: finished at its
    # first delivery (3 h), with 0.5 h of work by then.
    make_request(session, [(hours(0), "submitted"), (hours(1), "fulfilling"), (hours(3), "delivered", 1800),
                           (hours(4), "fulfilling"), (hours(10), "delivered")], flow_item_type="defect")
    # R8: delivered, then moved back to fulfilling for good: finished (at 2 h) and in progress again.
    make_request(session, [(hours(0), "submitted"), (hours(2), "delivered"), (hours(3), "fulfilling")],
                 flow_item_type="risk")
    # R3: fulfilling from day 1 to the end: in progress, 30 days old at the window's end.
    make_request(session, [(hours(0), "submitted"), (hours(24), "fulfilling")], flow_item_type="debt")
    # R4: cancelled: neither finished nor in progress.
    make_request(session, [(hours(48), "submitted"), (hours(50), "cancelled")], flow_item_type="risk")
    # R5: delivered in February: not in this window's velocity, but in the diagram's `delivered` band.
    make_request(session, [(datetime(2026, 2, 1, tzinfo=UTC), "submitted"),
                           (datetime(2026, 2, 2, tzinfo=UTC), "delivered")])
    # R6: 12 h old at the end; R7: delivered exactly at the window's end, so still in progress within it.
    make_request(session, [(datetime(2026, 3, 31, 12, tzinfo=UTC), "submitted")])
    make_request(session, [(datetime(2026, 3, 30, tzinfo=UTC), "submitted"),
                           (datetime(2026, 4, 1, tzinfo=UTC), "delivered")])
    # Another capability's order: not counted.
    make_request(session, [(hours(0), "submitted"), (hours(1), "delivered")], capability="feature-flags")
    session.commit()


def test_velocity_and_flow_time(client, scenario):
    body = client.get(URL, params={"capability": "ci-pipeline", **WINDOW}).json()
    assert body["scope"] == {"items": "requests", "kind": "order", "product": "platformproduct:default/delivery-platform",
                             "capability": "capability:default/ci-pipeline"}
    velocity = body["velocity"]
    assert velocity["finished"] == 3  # R1, R2 and R8
    assert velocity["perWeek"] == pytest.approx(3 / (31 / 7))
    assert [week["finished"] for week in velocity["weeks"]] == [3, 0, 0, 0, 0]
    assert velocity["weeks"][-1] == {"from": "2026-03-29T00:00:00Z", "until": "2026-04-01T00:00:00Z", "finished": 0}
    # 2 h, 3 h and 6 h: p50 3 h; p85 at rank 1.7: 3 h + 0.7 · 3 h = 5.1 h; p95 at rank 1.9: 5.7 h
    assert body["flowTime"] == {"samples": 3, "p50": 3 * HOUR, "p85": pytest.approx(5.1 * HOUR),
                                "p95": pytest.approx(5.7 * HOUR)}


def test_efficiency(client, scenario):
    efficiency = client.get(URL, params={"capability": "ci-pipeline", **WINDOW}).json()["efficiency"]
    # (4 h + 0.5 h + 0 h) / (6 h + 3 h + 2 h)
    assert efficiency == {"samples": 3, "workTime": 4.5 * HOUR, "flowTime": 11 * HOUR, "ratio": pytest.approx(4.5 / 11)}


def test_load_with_aging(client, scenario):
    load = client.get(URL, params={"capability": "ci-pipeline", **WINDOW}).json()["load"]
    assert load["wip"] == 4  # R3, R8 (back in fulfilling), R7, R6
    assert [bucket["items"] for bucket in load["buckets"]] == [1, 1, 0, 2, 0]  # 12 h, 2 d, —, 30 d twice, —
    assert load["buckets"][3] == {"label": "30–90 days", "fromSeconds": 30 * DAY, "untilSeconds": 90 * DAY, "items": 2}
    assert load["ageP50"] == 16 * DAY  # (2 d + 30 d) / 2
    assert [item["ageSeconds"] for item in load["oldest"]] == [30 * DAY, 30 * DAY, 2 * DAY, 12 * HOUR]
    assert sorted((item["state"], item["type"]) for item in load["oldest"][:2]) == [
        ("fulfilling", "debt"), ("fulfilling", "risk")]
    assert load["oldest"][3] == {"ageSeconds": 12 * HOUR, "state": "submitted", "type": "feature"}


def test_distribution(client, scenario):
    distribution = client.get(URL, params={"capability": "ci-pipeline", **WINDOW}).json()["distribution"]
    third = pytest.approx(1 / 3)
    assert distribution["finished"] == {"feature": {"items": 1, "share": third}, "defect": {"items": 1, "share": third},
                                        "risk": {"items": 1, "share": third}, "debt": {"items": 0, "share": 0.0}}
    assert distribution["inProgress"] == {"feature": {"items": 2, "share": 0.5}, "defect": {"items": 0, "share": 0.0},
                                          "risk": {"items": 1, "share": 0.25}, "debt": {"items": 1, "share": 0.25}}


def test_cumulative_flow(client, scenario):
    diagram = client.get(URL, params={"capability": "ci-pipeline", **WINDOW}).json()["cumulativeFlow"]
    assert diagram["states"][:4] == ["submitted", "awaiting-approval", "fulfilling", "delivered"]
    days = {day["date"]: day["counts"] for day in diagram["days"]}
    assert len(days) == 31
    nonzero = {date: {state: count for state, count in counts.items() if count} for date, counts in days.items()}
    assert nonzero["2026-03-01"] == {"delivered": 1}  # only R5; R1–R3 are created at the day's end
    # R3 moves on at midnight, not before; R8 is back in fulfilling
    assert nonzero["2026-03-02"] == {"submitted": 1, "fulfilling": 1, "delivered": 3}
    assert nonzero["2026-03-03"] == {"fulfilling": 2, "delivered": 3}
    assert nonzero["2026-03-04"] == {"fulfilling": 2, "delivered": 3, "cancelled": 1}
    assert nonzero["2026-03-31"] == {"submitted": 2, "fulfilling": 2, "delivered": 3, "cancelled": 1}
    assert diagram["days"][-1]["at"] == "2026-04-01T00:00:00Z"


def test_no_requests_gives_nulls_and_zeros(client, session):
    seed_request_catalog(session)
    body = client.get(URL, params={"capability": "feature-flags", **WINDOW}).json()
    assert body["velocity"]["finished"] == 0 and body["load"]["wip"] == 0
    assert body["flowTime"] == {"samples": 0, "p50": None, "p85": None, "p95": None}
    assert body["efficiency"]["ratio"] is None and body["load"]["ageP50"] is None
    assert body["distribution"]["finished"]["feature"] == {"items": 0, "share": None}


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"capability": "ci-pipeline", "entity": "component:default/x"}, 400, "exactly one of product, capability, entity"),
    ({}, 400, "exactly one"),
    ({"entity": "component:default/nope"}, 404, "No entity component:default/nope"),
    ({"entity": "component:default/x", "kind": "idea"}, 400, "kind applies to product= only"),
    ({"entity": "x" * 500}, 400, "at most 400"),
    ({"product": "nope"}, 404, "no platform product"),
    ({"product": "delivery-platform", "until": "2026-01-01T00:00:00Z", "from": "2026-02-01T00:00:00Z"}, 400, "before"),
    ({"product": "delivery-platform", "until": "0001-01-05T00:00:00Z"}, 400, "between 1970-01-01 and 9000-01-01"),
    ({"product": "delivery-platform", "from": "9999-12-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"}, 400, "between"),
    ({"product": "delivery-platform", "from": "2026-01-01T00:00:00+99:00"}, 400, "not a time"),
])
def test_bad_queries(client, session, params, status, says):
    seed_request_catalog(session)
    response = client.get(URL, params=params)
    assert response.status_code == status, response.text
    assert says in response.text


def test_requests_quiet_through_the_window_count_without_their_events(client, session):
    seed_request_catalog(session)
    january = datetime(2026, 1, 10, tzinfo=UTC)
    # Waiting since January (in progress, 50 days old at the end), delivered in January, cancelled in January,
    # and one that moves in the window: only the last is read with its events.
    make_request(session, [(january, "submitted"), (datetime(2026, 1, 11, tzinfo=UTC), "fulfilling")])
    make_request(session, [(january, "submitted"), (datetime(2026, 1, 12, tzinfo=UTC), "delivered")])
    make_request(session, [(january, "submitted"), (datetime(2026, 1, 12, tzinfo=UTC), "cancelled")])
    make_request(session, [(january, "submitted"), (hours(0), "delivered")])
    session.commit()
    body = client.get(URL, params={"capability": "ci-pipeline", "from": "2026-03-01T00:00:00Z",
                                   "until": "2026-03-11T00:00:00Z"}).json()
    assert body["load"]["wip"] == 1 and body["load"]["oldest"] == [
        {"ageSeconds": 60 * DAY, "state": "fulfilling", "type": "feature"}]
    assert body["velocity"]["finished"] == 1
    first, last = body["cumulativeFlow"]["days"][0]["counts"], body["cumulativeFlow"]["days"][-1]["counts"]
    assert (first["submitted"], first["fulfilling"], first["delivered"], first["cancelled"]) == (1, 1, 1, 1)
    assert (last["submitted"], last["fulfilling"], last["delivered"], last["cancelled"]) == (0, 1, 2, 1)
