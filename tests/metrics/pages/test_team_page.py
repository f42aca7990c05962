"""The team page on a real database: a group and its child group's components, their DORA, the
capabilities they use, the open requests the caller may see; bad windows, unknown groups, hostile text."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.catalog.kinds import USES_CAPABILITIES_ANNOTATION
from tests.auth.people import production_settings, sign_in
from tests.flow.factories import GITHUB, deployment, save
from tests.metrics.flow_factories import make_request
from tests.requests.factories import request_catalog, store

WINDOW = {"window": "custom", "from": "2024-05-06T00:00:00Z", "until": "2024-05-20T00:00:00Z"}
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=UTC)


def component(name: str, owner: str, repo: str, **annotations) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "annotations": {GITHUB: repo, **annotations}},
            "spec": {"type": "service", "lifecycle": "production", "owner": owner}}


@pytest.fixture
def team(session):
    """team-apps owns shop; its child team-mobile owns app; team-dx owns billing (not the team's)."""
    store(session, [*request_catalog(),
                    {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-mobile"},
                     "spec": {"type": "team", "parent": "team-apps", "children": []}},
                    component("shop", "group:default/team-apps", "acme/shop",
                              **{USES_CAPABILITIES_ANNOTATION: "capability:default/ci-pipeline"}),
                    component("app", "team-mobile", "acme/app"),
                    component("billing", "team-dx", "acme/billing")])
    save(session, [deployment("acme/shop", 1, "production", at(6)), deployment("acme/shop", 2, "production", at(13)),
                   deployment("acme/app", 3, "production", at(14)),
                   deployment("acme/billing", 4, "production", at(15))])
    # rui.requester is in team-apps: one open order, one delivered; olga (team-dx) has an open one.
    make_request(session, [(at(7), "submitted"), (at(8), "fulfilling")], title="Open order of rui")
    make_request(session, [(at(7), "submitted"), (at(9), "delivered")], title="Delivered order of rui")
    other = make_request(session, [(at(7), "submitted")], title="Olga's order")
    other.requester_ref = "user:default/olga.owner"
    session.commit()
    return session


def twin(client, path="/teams/team-apps", **params) -> dict:
    response = client.get(path, params={**WINDOW, **params}, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_team_covers_its_child_groups_components(client, team):
    body = twin(client)
    assert body["entity"] == "group:default/team-apps"
    assert body["componentCount"] == 2
    # shop 2 + app 1 deployments in two weeks: 1.5 a week; billing belongs to team-dx.
    assert body["dora"]["deploymentFrequency"]["value"] == 1.5
    per_component = {row["component"]: row["deploymentFrequency"]["samples"] for row in body["components"]}
    assert per_component == {"component:default/app": 1, "component:default/shop": 2}


def test_capabilities_and_open_requests(client, team):
    body = twin(client)
    assert [item["capability"] for item in body["capabilities"]] == ["capability:default/ci-pipeline"]
    assert body["capabilities"][0]["components"][0]["component"] == "component:default/shop"
    assert [item["title"] for item in body["openRequests"]["items"]] == ["Open order of rui"]
    assert body["openRequests"]["totalItems"] == 1


def test_the_name_namespace_and_ref_forms_reach_the_same_team(client, team):
    for path in ("/teams/team-apps", "/teams/default/team-apps", "/teams/group:default/team-apps"):
        assert twin(client, path)["entity"] == "group:default/team-apps"


def test_the_page_links_components_and_requests(client, team):
    page = client.get("/teams/team-apps", params={**WINDOW, "compare": "previous"}, headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Team team-apps</h1>" in text
    assert 'href="/catalog/default/component/shop/metrics"' in text
    assert "Open order of rui" in text and "Delivered order of rui" not in text and "Olga" not in text
    assert "Deployment frequency: High" in text  # 1.5 a week
    assert "previous window" in text
    assert 'hx-get="/teams/team-apps?window=7d' in text


def test_an_htmx_request_gets_the_body_only(client, team):
    response = client.get("/teams/team-apps", params={"window": "90d"}, headers={**HTML, "HX-Request": "true"})
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="metrics-body"')
    assert "<html" not in response.text


@pytest.mark.parametrize("path", ["/teams/nobody", "/teams/shop", "/teams/default/shop", "/teams/" + "g" * 5000,
                                  "/teams/..%2F..%2Fetc%2Fpasswd", "/teams/user:default/rui.requester"])
def test_what_is_not_a_group_is_a_404_page(client, team, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"] and "Traceback" not in response.text


@pytest.mark.parametrize("params", [{"window": "1y"}, {"window": "custom", "from": "2024-05-20", "until": "2024-05-01"},
                                    {"compare": "next"}])
def test_a_bad_window_is_a_400_page(client, team, params):
    response = client.get("/teams/team-apps", params=params, headers=HTML)
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]


def test_hostile_titles_are_escaped(client, team):
    make_request(team, [(at(7), "submitted")], title="<script>alert(1)</script>")
    team.commit()
    text = client.get("/teams/team-apps", params=WINDOW, headers=HTML).text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_open_requests_follow_the_callers_visibility(settings, team):
    production = production_settings(settings, requests_visible_to="involved")
    with TestClient(create_app(production)) as anonymous:
        assert anonymous.get("/teams/team-apps", headers=JSON).status_code == 401
    with TestClient(create_app(production)) as outsider:
        sign_in(outsider, production, "user:default/sami.approver")  # team-sre: not rui's team
        body = outsider.get("/teams/team-apps", params=WINDOW, headers=JSON).json()
        assert body["openRequests"] == {"items": [], "totalItems": 0}
    with TestClient(create_app(production)) as teammate:
        sign_in(teammate, production, "user:default/otto.outsider")  # team-apps, like rui
        body = teammate.get("/teams/team-apps", params=WINDOW, headers=JSON).json()
        assert [item["title"] for item in body["openRequests"]["items"]] == ["Open order of rui"]


def test_deployments_per_week_chart_downloads(client, team):
    assert twin(client)["deploymentsPerWeek"] == [{"weekStarting": "2024-05-06", "deployments": 1},
                                                  {"weekStarting": "2024-05-13", "deployments": 2}]
    response = client.get("/teams/team-apps", params={**WINDOW, "chart": "deployments-per-week", "format": "csv"})
    assert response.status_code == 200
    assert response.text == "label,deployments\r\n2024-05-06,1.0\r\n2024-05-13,2.0\r\n"
    page = client.get("/teams/team-apps", params=WINDOW, headers=HTML).text
    assert "chart=deployments-per-week&amp;format=json" in page
    assert 'id="spark-deploymentfrequency"' in page and "Deployment frequency: deployments per week" in page
    assert client.get("/teams/team-apps", params={"chart": "nope", "format": "csv"}).status_code == 404
    assert client.get("/teams/team-apps", params={"chart": "deployments-per-week", "format": "pdf"}).status_code == 400


@pytest.mark.parametrize("path", ["/teams/", "/teams/group:", "/teams/a/b/c", "/teams/%20", "/teams/group:default/"])
def test_malformed_team_names_are_a_404(client, team, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 404, response.text
