"""GET /api/v1/metrics/impact: DORA before and after adoption, in equal windows, with caveats."""

from datetime import timedelta

import pytest

from portal.errors import CatalogApiError
from portal.metrics.impact import window_length_from_query
from tests.flow.factories import deployment, save
from tests.metrics.value_scenario import CI, _component, day, seed_catalog, seed_orders
from tests.requests.factories import store


@pytest.fixture
def scenario(session):
    seed_catalog(session)
    seed_orders(session)
    # web adopted CI on 1 April 00:10 (its first delivered order). Two deployments in the 30 days before,
    # twelve (daily from 2 April) in the 30 days after; a staging deployment never counts.
    save(session, [deployment("acme/web", 1, "production", day(3, 10, 12)),
                   deployment("acme/web", 2, "production", day(3, 20, 12)),
                   deployment("acme/web", 3, "staging", day(3, 21, 12))]
         + [deployment("acme/web", 10 + n, "production", day(4, 2 + n, 12)) for n in range(12)])
    # A component that only declares the capability: dated by when the catalog stored it (now).
    store(session, [_component("declared", "group:default/team-web", "acme/declared", uses=CI)])
    return session


def test_each_adopter_before_and_after(client, scenario):
    response = client.get("/api/v1/metrics/impact", params={"capability": CI, "window": "30"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["capability"], body["windowDays"], body["benchmark"]) == (CI, 30, "2023")
    web, declared = body["components"]
    assert (web["component"], web["adoptedAt"], web["adoptionSource"]) == (
        "component:default/web", "2024-04-01T00:10:00Z", "order")
    assert (web["before"]["from"], web["before"]["until"]) == ("2024-03-02T00:10:00Z", "2024-04-01T00:10:00Z")
    assert (web["after"]["from"], web["after"]["until"]) == ("2024-04-01T00:10:00Z", "2024-05-01T00:10:00Z")
    # 2 and 12 deployments in 30/7 weeks: 0.4667 and 2.8 a week.
    assert web["before"]["deploymentFrequency"]["value"] == pytest.approx(2 * 7 / 30)
    assert web["after"]["deploymentFrequency"]["value"] == pytest.approx(12 * 7 / 30)
    assert web["change"]["deploymentFrequency"] == {"difference": pytest.approx(10 * 7 / 30), "direction": "improved"}
    assert web["change"]["changeFailureRate"] == {"difference": 0.0, "direction": "unchanged"}
    assert web["change"]["leadTimeForChanges"] == {"difference": None, "direction": None}
    assert web["caveats"] == ["Only 2 deployments before and 12 after adoption: with fewer than 10 on a side, "
                              "a difference may be chance rather than the capability."]
    assert declared["adoptionSource"] == "catalog"
    assert any("still ahead" in note for note in declared["caveats"])
    assert any("first stored" in note for note in declared["caveats"])
    assert body["summary"]["deploymentFrequency"] == {"compared": 1, "improved": 1, "worsened": 0, "unchanged": 0}
    assert "anecdotes" in body["caveat"]


def test_the_default_window_is_90_days_and_2021_is_selectable(client, scenario):
    body = client.get("/api/v1/metrics/impact", params={"capability": "ci-pipeline", "benchmark": "2021"}).json()
    assert (body["windowDays"], body["benchmark"]) == (90, "2021")
    web = body["components"][0]
    assert web["before"]["from"] == "2024-01-02T00:10:00Z"
    # 12 deployments in 90 days is 0.93 a week: high in 2021 (between weekly and monthly, or better).
    assert web["after"]["deploymentFrequency"]["tier"] == "high"


@pytest.mark.parametrize(("text", "days"), [("90", 90), ("P12W", 84), ("P1D", 1), ("365", 365), (" 7 ", 7)])
def test_window_lengths(text, days):
    assert window_length_from_query(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["0", "366", "P1M", "abc", "-5", "9" * 30, "P1Y", "1e3"])
def test_bad_window_lengths(text):
    with pytest.raises(CatalogApiError) as raised:
        window_length_from_query(text)
    assert raised.value.status == 400


@pytest.mark.parametrize(("params", "status"), [
    ({"capability": "capability:default/nope"}, 404),
    ({"capability": CI, "window": "P1M"}, 400),
    ({"capability": CI, "benchmark": "1999"}, 400),
    ({"capability": "component:default/web"}, 400),
    ({}, 400),
])
def test_bad_impact_queries(client, scenario, params, status):
    response = client.get("/api/v1/metrics/impact", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
