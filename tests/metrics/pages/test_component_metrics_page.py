"""The component metrics tab on a real database: numbers checkable by hand, the JSON twin, chart
downloads, the HTMX fragment, bad windows, unknown components and hostile text."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.flow.records import FlowRecord
from tests.flow.factories import GITHUB, PAGERDUTY, deployment, incident, make_component, save

SHOP = "acme/shop"
PAGE = "/catalog/default/component/shop/metrics"
# Two whole weeks starting on a Monday.
WINDOW = {"window": "custom", "from": "2024-05-06T00:00:00Z", "until": "2024-05-20T00:00:00Z"}
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
HOUR = 3600


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def shop(session):
    make_component(session, "shop", {GITHUB: SHOP, PAGERDUTY: "PSHOP"})
    save(session, [
        deployment(SHOP, 1, "production", at(6, 10)),                       # week 1, counts
        deployment(SHOP, 2, "production", at(7, 10)),                       # week 1, counts
        deployment(SHOP, 3, "production", at(14, 10), status="failure"),   # failed: listed, not counted
        deployment(SHOP, 4, "staging", at(15, 10)),                         # staging: listed, not counted
        deployment(SHOP, 5, "production", at(16, 10)),                      # week 2, counts
        deployment(SHOP, 6, "production", at(21, 10)),                      # after the window
        # After deployment 2 (10:05): fails it; resolved 2 h 5 min after creation, 3 h after the deploy.
        incident("PSHOP", 1, at(7, 11), status="resolved", resolved_at=at(7, 13, 5)),
        # Created, resolved, reopened, still open.
        incident("PSHOP", 2, at(16, 12), status="triggered"),
        FlowRecord("incident_event", {"incident_id": "pagerduty:2", "event": "triggered", "status": "triggered",
                                      "at": at(16, 12)}),
        FlowRecord("incident_event", {"incident_id": "pagerduty:2", "event": "resolved", "status": "resolved",
                                      "at": at(16, 13)}),
        FlowRecord("incident_event", {"incident_id": "pagerduty:2", "event": "reopened", "status": "triggered",
                                      "at": at(16, 14)}),
    ])
    return session


def twin(client, **params) -> dict:
    response = client.get(PAGE, params={**WINDOW, **params}, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_the_json_twin_has_hand_checked_numbers(client, shop):
    body = twin(client)
    assert (body["entity"], body["window"], body["from"], body["until"]) == (
        "component:default/shop", "custom", "2024-05-06T00:00:00Z", "2024-05-20T00:00:00Z")
    # Deployments 1, 2 and 5 in two weeks: 1.5 a week.
    assert body["dora"]["deploymentFrequency"]["value"] == 1.5
    assert body["dora"]["deploymentFrequency"]["samples"] == 3
    # Deployment 2 failed (incident 1 after it), and 5 (incident 2 on the same day): 2 of 3.
    assert body["dora"]["changeFailureRate"]["value"] == pytest.approx(2 / 3)
    assert body["dora"]["timeToRestore"]["value"] == 2 * HOUR + 300
    assert body["deploymentsPerWeek"] == [{"weekStarting": "2024-05-06", "deployments": 2},
                                          {"weekStarting": "2024-05-13", "deployments": 1}]
    assert [row["id"].rsplit(":", 1)[1] for row in body["deployments"]] == ["5", "4", "3", "2", "1"]
    assert [(row["environment"], row["tier"], row["status"]) for row in body["deployments"][1:3]] == [
        ("staging", "staging", "success"), ("production", "production", "failure")]
    incidents = {row["id"]: row for row in body["incidents"]}
    assert incidents["pagerduty:1"]["timeToRestore"] == 2 * HOUR + 300
    assert incidents["pagerduty:1"]["reopened"] == 0
    assert (incidents["pagerduty:1"]["createdAt"], incidents["pagerduty:1"]["resolvedAt"]) == (
        "2024-05-07T11:00:00Z", "2024-05-07T13:05:00Z")
    assert body["deployments"][0]["finishedAt"] == "2024-05-16T10:05:00Z"
    assert incidents["pagerduty:2"]["reopened"] == 1
    assert incidents["pagerduty:2"]["timeToRestore"] is None
    assert body["previousDora"] is None


def test_the_tab_agrees_with_the_dora_api(client, shop):
    api = client.get("/api/v1/metrics/dora", params={"entity": "component:default/shop", "from": WINDOW["from"],
                                                       "until": WINDOW["until"]}).json()
    body = twin(client)
    for metric in ("deploymentFrequency", "leadTimeForChanges", "changeFailureRate", "timeToRestore"):
        assert body["dora"][metric] == api[metric]


def test_the_page_shows_tiers_tables_and_charts(client, shop):
    response = client.get(PAGE, params=WINDOW, headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Metrics of shop</h1>" in page
    assert "1.5 a week" in page
    assert "Deployment frequency: High" in page  # 1.5 a week: between once a week and once a day
    assert 'id="deployments-per-week"' in page and 'id="lead-time-breakdown"' in page
    assert "chart=deployments-per-week&amp;format=csv" in page
    assert "window=custom" in page and 'hx-get="/catalog/default/component/shop/metrics?window=7d"' in page
    assert "Reopened" in page
    assert "Pickup and review are shown together: changes carry no first-review time" in page
    assert "2 hours 5 minutes" in page or "2 h 5 min" in page
    assert 'rel="alternate" type="application/json"' in page


def test_comparing_shows_the_previous_window_and_trends(client, shop):
    save(shop, [deployment(SHOP, 7, "production", at(1, 10))])  # previous window: 1 deployment in 2 weeks
    body = twin(client, compare="previous")
    assert body["previous"] == {"from": "2024-04-22T00:00:00Z", "until": "2024-05-06T00:00:00Z"}
    assert body["previousDora"]["deploymentFrequency"]["value"] == 0.5
    page = client.get(PAGE, params={**WINDOW, "compare": "previous"}, headers=HTML).text
    assert "trend-better" in page  # 1.5 a week after 0.5: better
    assert "previous window 0.5 a week" in page


def test_chart_data_downloads_as_csv_and_json(client, shop):
    response = client.get(PAGE, params={**WINDOW, "chart": "deployments-per-week", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="deployments-per-week.csv"'
    # The chart keeps its values as numbers (floats): 2 deployments read 2.0.
    assert response.text == "label,deployments\r\n2024-05-06,2.0\r\n2024-05-13,1.0\r\n"
    document = client.get(PAGE, params={**WINDOW, "chart": "deployments-per-week", "format": "json"}).json()
    assert document["rows"] == [["2024-05-06", 2], ["2024-05-13", 1]]
    breakdown = client.get(PAGE, params={**WINDOW, "chart": "lead-time-breakdown", "format": "json"}).json()
    assert [row[0] for row in breakdown["rows"]] == ["Coding", "Pickup and review", "Deploy"]


@pytest.mark.parametrize(("params", "status"), [
    ({"chart": "nope", "format": "csv"}, 404),
    ({"chart": "deployments-per-week", "format": "xlsx"}, 400),
    ({"chart": "deployments-per-week", "format": "../../etc/passwd"}, 400),
])
def test_bad_downloads_are_refused(client, shop, params, status):
    assert client.get(PAGE, params={**WINDOW, **params}).status_code == status


def test_an_htmx_request_gets_the_body_only(client, shop):
    response = client.get(PAGE, params={"window": "7d"}, headers={**HTML, "HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="metrics-body"')
    assert "<html" not in response.text and "<h1>" not in response.text
    assert "HX-Request" in response.headers["vary"]
    # A history restore wants the whole page.
    restored = client.get(PAGE, params={"window": "7d"},
                          headers={**HTML, "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text


@pytest.mark.parametrize("params", [
    {"window": "8d"},
    {"window": "custom", "from": "2024-05-20", "until": "2024-05-06"},
    {"window": "custom", "from": "not a date", "until": "2024-05-06"},
    {"window": "custom", "from": "1900-01-01", "until": "9999-12-31"},
    {"window": "custom", "from": "2024-05-06\x00", "until": "2024-05-20"},
    {"window": "custom", "from": "99999999999999999999", "until": "2024-05-20"},
    {"compare": "javascript:alert(1)"},
    {"window": "x" * 5000},
])
def test_a_bad_window_is_a_400_page(client, shop, params):
    response = client.get(PAGE, params=params, headers=HTML)
    assert response.status_code == 400, response.text
    assert "text/html" in response.headers["content-type"]
    assert "Traceback" not in response.text
    api = client.get(PAGE, params=params, headers=JSON)
    assert api.status_code == 400 and "application/json" in api.headers["content-type"]


@pytest.mark.parametrize("path", [
    "/catalog/default/component/nobody/metrics",
    "/catalog/elsewhere/component/shop/metrics",
    "/catalog/default/component/" + "a" * 5000 + "/metrics",
    "/catalog/default/component/..%2F..%2Fetc/metrics",
    "/catalog/default/component/%20/metrics",
    "/catalog/%3A/component/a%3Ab/metrics",
    "/catalog/default/component/javascript:alert(1)/metrics",
])
def test_an_unknown_component_is_a_404_page(client, shop, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"] and "Traceback" not in response.text


def test_a_nul_byte_in_the_name_is_refused_before_the_page(client, shop):
    # The portal's input guard answers 400 for NUL bytes in any path.
    response = client.get("/catalog/default/component/sh%00op/metrics", headers=HTML)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"] and "Traceback" not in response.text


def test_a_group_is_not_a_component(client, session):
    make_component(session, "shop", {}, kind="Group")
    assert client.get(PAGE, headers=HTML).status_code == 404


def test_hostile_text_is_escaped_and_javascript_urls_are_not_linked(client, session):
    make_component(session, "shop", {GITHUB: SHOP, PAGERDUTY: "PSHOP"})
    save(session, [
        deployment(SHOP, 1, "<img src=x onerror=alert(1)>", at(6, 10), url="javascript:alert(document.cookie)"),
        deployment(SHOP, 2, "production", at(7, 10), url="https://github.com/acme/shop/deployments/2"),
        incident("PSHOP", 1, at(7, 11), title="<script>alert('x')</script>", url="javascript:alert(2)"),
    ])
    page = client.get(PAGE, params=WINDOW, headers=HTML).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert "javascript:" not in page
    assert '<a href="https://github.com/acme/shop/deployments/2"' in page
    # One bad row does not hide the good one beside it.
    assert twin(client)["dora"]["deploymentFrequency"]["samples"] == 1


def test_an_empty_component_shows_no_data(client, session):
    make_component(session, "shop", {})
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert "No deployments in this window." in page.text and "No incidents in this window." in page.text
    assert twin(client)["deploymentsPerWeek"] == [{"weekStarting": "2024-05-06", "deployments": 0},
                                                  {"weekStarting": "2024-05-13", "deployments": 0}]


def test_the_catalog_pages_link_to_the_metrics_tab_and_the_team_page(client, session):
    make_component(session, "shop", {})
    make_component(session, "team-a", {}, kind="Group")
    component_page = client.get("/catalog/default/component/shop", headers=HTML).text
    assert '<a href="/catalog/default/component/shop/metrics">Metrics</a>' in component_page
    group_page = client.get("/catalog/default/group/team-a", headers=HTML).text
    assert '<a href="/teams/team-a">Team metrics</a>' in group_page
    assert client.get("/teams/team-a", headers=HTML).status_code == 200


def test_reading_the_tab_needs_a_signed_in_caller_in_production(settings, session):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from tests.auth.people import production_settings, sign_in
    from tests.requests.factories import store

    make_component(session, "shop", {GITHUB: SHOP})
    store(session, [{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "reader"},
                     "spec": {"memberOf": []}}])
    production = production_settings(settings)
    with TestClient(create_app(production)) as anonymous:
        assert anonymous.get(PAGE, headers=HTML).status_code == 401
        assert anonymous.get(PAGE, params={"chart": "deployments-per-week", "format": "csv"}).status_code == 401
    with TestClient(create_app(production)) as reader:
        sign_in(reader, production, "user:default/reader")
        assert reader.get(PAGE, headers=HTML).status_code == 200
