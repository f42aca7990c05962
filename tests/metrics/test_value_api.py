"""GET /api/v1/metrics/value: adoption, time saved, satisfaction and SLA on a hand-checked scenario."""

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.auth.people import production_settings, sign_in
from tests.metrics.value_scenario import CI, DB, PRODUCT, seed_catalog, seed_orders

MAY_AND_JUNE = {"from": "2024-05-01T00:00:00Z", "until": "2024-07-01T00:00:00Z"}
HOUR = 3600


@pytest.fixture
def scenario(session):
    seed_catalog(session)
    seed_orders(session)
    return session


def value(client, **params) -> dict:
    response = client.get("/api/v1/metrics/value", params={**MAY_AND_JUNE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_totals_of_a_product(client, scenario):
    body = value(client, product=PRODUCT)
    assert (body["product"], body["from"], body["until"], body["interval"]) == (
        PRODUCT, "2024-05-01T00:00:00Z", "2024-07-01T00:00:00Z", "month")
    assert [item["ref"] for item in body["capabilities"]] == [CI, DB]
    totals = body["totals"]
    # Delivered in the window: O1 and O6 (CI, 6 h each) and O2, O3 (postgres, 16 h each) = 44 h credited;
    # confirmed: O1 8 h + O2 1 h = 9 h (O6 said nothing about time).
    assert totals["timeSaved"] == {"unit": "seconds", "credited": 44 * HOUR, "deliveredOrders": 4,
                                   "confirmed": 9 * HOUR, "confirmedOrders": 2}
    # Ratings 5, 3, 4: average 4; one promoter, one passive, one detractor: NPS 0.
    satisfaction = totals["satisfaction"]
    assert {key: satisfaction[key] for key in ("ratings", "averageRating", "promoters", "passives", "detractors",
                                                "npsScore")} == {
        "ratings": 3, "averageRating": 4.0, "promoters": 1, "passives": 1, "detractors": 1, "npsScore": 0.0}
    # Newest confirmation first; O6 has no comment.
    assert [c["comment"] for c in satisfaction["comments"]] == ["Took two days", "Pipeline in minutes"]
    # Lead times 20 min (≤ 30), 40 min (> 30), 48 h (> 24 h), 12 h (≤ 24 h): 2 of 4 within;
    # median of 20 min, 40 min, 12 h, 48 h = (40 min + 12 h) / 2 = 22,800 s.
    assert totals["sla"] == {"orders": 4, "withinTarget": 2, "compliance": 0.5, "medianLeadTime": 22_800,
                             "unit": "seconds", "ordersWithoutTarget": 0}


def test_adoption_over_time(client, scenario):
    body = value(client, product=PRODUCT)
    adoption = body["totals"]["adoption"]
    # web since 1 April (its order beats its descriptor), api since 12 May, worker since 5 June.
    # Teams: owners team-web, team-api; requester rui's team-apps (from 1 April).
    assert [(p["from"], p["components"], p["teams"]) for p in adoption["series"]] == [
        ("2024-05-01T00:00:00Z", 2, 3), ("2024-06-01T00:00:00Z", 3, 3)]
    assert adoption["componentRefs"] == ["component:default/api", "component:default/web", "component:default/worker"]
    assert adoption["teamRefs"] == ["group:default/team-api", "group:default/team-apps", "group:default/team-web"]
    by_ref = {item["ref"]: item for item in body["capabilities"]}
    assert by_ref[CI]["adoption"]["componentRefs"] == ["component:default/web"]
    assert by_ref[DB]["adoption"]["components"] == 2
    assert by_ref[CI]["timeSavedPerOrder"] == 6 * HOUR and by_ref[DB]["targetLeadTime"] == 24 * HOUR


def test_weekly_series_and_one_capability(client, scenario):
    body = value(client, capability="ci-pipeline", interval="week", **{"from": "2024-05-01T00:00:00Z",
                                                                          "until": "2024-05-22T00:00:00Z"})
    assert body["capability"] == CI
    assert [p["from"] for p in body["totals"]["adoption"]["series"]] == [
        "2024-05-01T00:00:00Z", "2024-05-08T00:00:00Z", "2024-05-15T00:00:00Z"]
    # O1 (2 May) and O6 (15 May) delivered; both rated (O1 5, O6 4).
    assert body["totals"]["timeSaved"]["deliveredOrders"] == 2
    assert body["totals"]["satisfaction"]["averageRating"] == 4.5


def test_comments_only_from_requests_the_caller_may_see(settings, scenario):
    production = production_settings(settings)
    with TestClient(create_app(production)) as outsider:
        sign_in(outsider, production, "user:default/otto")
        satisfaction = outsider.get("/api/v1/metrics/value", params={**MAY_AND_JUNE, "product": PRODUCT}
                                    ).json()["totals"]["satisfaction"]
        assert satisfaction["ratings"] == 3 and satisfaction["comments"] == []
    with TestClient(create_app(production)) as requester:
        sign_in(requester, production, "user:default/rui.requester")
        satisfaction = requester.get("/api/v1/metrics/value", params={**MAY_AND_JUNE, "product": PRODUCT}
                                     ).json()["totals"]["satisfaction"]
        assert len(satisfaction["comments"]) == 2
    with TestClient(create_app(production)) as anonymous:
        assert anonymous.get("/api/v1/metrics/value", params={"product": PRODUCT}).status_code == 401


@pytest.mark.parametrize(("params", "status", "says"), [
    ({}, 400, "exactly one"),
    ({"product": PRODUCT, "capability": CI}, 400, "exactly one"),
    ({"product": "platformproduct:default/nope"}, 404, "No entity"),
    ({"product": "component:default/web"}, 400, "not a platform product"),
    ({"capability": "component:default/web"}, 400, "capability reference"),
    ({"capability": "capability:"}, 400, "not an entity reference"),
    ({"product": PRODUCT, "interval": "fortnight"}, 400, "week or month"),
    ({"product": PRODUCT, "from": "2024-13-01"}, 400, "from="),
    ({"product": "javascript:alert(1)"}, 400, "not a platform product"),
])
def test_bad_queries_are_readable_4xx(client, scenario, params, status, says):
    response = client.get("/api/v1/metrics/value", params=params)
    assert response.status_code == status, response.text
    assert says in response.text


def test_a_malformed_order_never_spoils_the_others(client, scenario):
    from tests.metrics.value_scenario import day, order
    # Component parameters that are not component refs: ignored for adoption, still delivered orders.
    for bad in ("component:", "../../etc/passwd\x01", "javascript:alert(1)", "group:default/team-web"):
        order(scenario, CI, day(5, 25), stage="delivered", delivered=day(5, 25, 0, 5), component=bad, target=1800)
    body = value(client, product=PRODUCT)
    adoption = body["totals"]["adoption"]
    assert adoption["componentRefs"] == ["component:default/api", "component:default/web", "component:default/worker"]
    # Four more CI deliveries (6 h each, 5 minutes each: within target): 44 h + 24 h credited, SLA 6 of 8.
    assert body["totals"]["timeSaved"]["credited"] == 68 * HOUR
    assert (body["totals"]["sla"]["orders"], body["totals"]["sla"]["withinTarget"]) == (8, 6)
