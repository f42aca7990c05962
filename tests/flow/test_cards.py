"""Entity page cards: HTMX fragments rendered from the flow tables, their page fallbacks and JSON twin."""

import re
from datetime import timedelta

import pytest

from tests.flow.factories import GITHUB, PAGERDUTY, T0, change, deployment, incident, make_component, pipeline_run, save

REPO = "octo/parcel-api"
BASE = "/catalog/default/component/parcel-api/cards"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def parcel_api(session):
    make_component(session, "parcel-api", {GITHUB: REPO, PAGERDUTY: "PABC"})
    make_component(session, "quiet")
    return session


def test_recent_changes_card_lists_the_newest_changes(client, parcel_api):
    save(parcel_api, [change(REPO, n, T0 + timedelta(hours=n), url=f"https://github.com/{REPO}/pull/{n}")
                      for n in range(1, 8)])
    response = client.get(f"{BASE}/recent-changes", headers=HTMX)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html  # a fragment, not a page
    assert re.findall(r"#(\d+) Change", html) == ["7", "6", "5", "4", "3"]
    assert f'href="https://github.com/{REPO}/pull/7"' in html
    assert "/api/v1/flow/changes?entity=component%3Adefault%2Fparcel-api" in html


def test_deployments_card_shows_the_latest_per_environment_production_first(client, parcel_api):
    save(parcel_api, [deployment(REPO, 1, "staging", T0), deployment(REPO, 2, "production", T0 + timedelta(hours=1)),
                      deployment(REPO, 3, "production", T0 + timedelta(hours=2), status="failure"),
                      deployment(REPO, 4, "staging", T0 + timedelta(hours=3))])
    html = client.get(f"{BASE}/deployments", headers=HTMX).text
    environments = re.findall(r'<li class="flow-deployment"><strong>(\w+)', html)
    assert environments == ["production", "staging"]  # one entry per environment
    assert "failure" in html and f"{3:07x}"[:7] in html and f"{4:07x}" in html


def test_open_incidents_card_leaves_resolved_ones_out(client, parcel_api):
    save(parcel_api, [incident("PABC", 1, T0, title="Label printer jam"),
                      incident("PABC", 2, T0, title="Old outage", status="resolved", resolved_at=T0 + timedelta(hours=1))])
    html = client.get(f"{BASE}/open-incidents", headers=HTMX).text
    assert "Label printer jam" in html and "Old outage" not in html


def test_pipeline_health_card_reports_the_success_rate(client, parcel_api):
    statuses = ["success", "success", "failure", "success", "cancelled", "running"]
    save(parcel_api, [pipeline_run(REPO, n, status, T0 + timedelta(minutes=n)) for n, status in enumerate(statuses)])
    html = client.get(f"{BASE}/pipeline-health", headers=HTMX).text
    assert "75 %" in html  # 3 of 4 judged runs; cancelled and running do not count
    assert "1 cancelled" in html
    assert html.count('<li class="flow-run">') == 5  # the last five runs


@pytest.mark.parametrize("card, words", [
    ("recent-changes", "No changes recorded yet"), ("deployments", "No deployments recorded yet"),
    ("open-incidents", "No open incidents"), ("pipeline-health", "No pipeline runs recorded yet"),
])
def test_cards_have_an_empty_state(client, parcel_api, card, words):
    html = client.get(f"{BASE}/{card}", headers=HTMX).text
    assert words in html


def test_an_entity_without_link_annotations_is_told_how_to_link(client, parcel_api):
    html = client.get("/catalog/default/component/quiet/cards/deployments", headers=HTMX).text
    assert "No delivery tool is linked" in html and "github.com/project-slug" in html


def test_without_htmx_a_card_is_a_whole_page(client, parcel_api):
    save(parcel_api, [change(REPO, 1, T0)])
    response = client.get(f"{BASE}/recent-changes", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "<html" in response.text and "Change 1" in response.text
    assert 'href="/catalog/default/component/parcel-api"' in response.text
    assert "HX-Request" in response.headers["vary"]


def test_unknown_cards_and_entities_are_404s(client, parcel_api):
    assert client.get(f"{BASE}/velocity", headers=HTMX).status_code == 404
    response = client.get("/catalog/default/component/ghost/cards/deployments", headers=HTMX)
    assert response.status_code == 404 and "No entity component:default/ghost" in response.text


def test_the_summary_is_the_json_twin_of_the_cards(client, parcel_api):
    save(parcel_api, [change(REPO, 1, T0), deployment(REPO, 5, "prod", T0), incident("PABC", 3, T0),
                      pipeline_run(REPO, 1, "success", T0), pipeline_run(REPO, 2, "failure", T0 + timedelta(hours=1))])
    body = client.get("/api/v1/flow/summary?entity=component:default/parcel-api").json()
    assert body["entityRef"] == "component:default/parcel-api"
    assert [c["number"] for c in body["recentChanges"]] == [1]
    assert [(d["environment"], d["tier"]) for d in body["deployments"]] == [("prod", "production")]
    assert [i["id"] for i in body["openIncidents"]] == ["pagerduty:3"]
    health = body["pipelineHealth"]
    assert (health["succeeded"], health["failed"], health["successRate"]) == (1, 1, 0.5)
    assert [r["status"] for r in health["lastRuns"]] == ["failure", "success"]
    assert client.get("/api/v1/flow/summary?entity=component:default/ghost").status_code == 404


def test_the_include_renders_a_placeholder_per_card_with_a_plain_link(app, client, parcel_api):
    entity = {"kind": "Component", "metadata": {"name": "parcel-api", "namespace": "default"}}
    html = app.state.templates.env.get_template("flow/_cards.html").render(entity=entity)
    urls = re.findall(r'hx-get="([^"]+)"', html)
    assert urls == [f"{BASE}/{name}" for name in ("recent-changes", "deployments", "open-incidents", "pipeline-health")]
    for url in urls:
        assert f'<a href="{url}">' in html  # works without JavaScript
        assert client.get(url, headers=HTMX).status_code == 200
