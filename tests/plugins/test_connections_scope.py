"""Scope lists and the CDEvents feed in the connections API and admin page: accepted, validated, shown."""

from fastapi.testclient import TestClient

from portal.app import create_app
from tests.web.csrf_support import csrf_headers

HTML = {"Accept": "text/html"}


def test_the_api_stores_and_shows_a_repository_list(client):
    created = client.post("/api/v1/connections", json={
        "plugin": "github", "name": "ghe",
        "config": {"api_url": "https://ghe.example.com/api/v3", "repositories": ["ghe-org/*", "ghe-org/ledger"]}})
    assert created.status_code == 201, created.text
    assert created.json()["config"]["repositories"] == ["ghe-org/*", "ghe-org/ledger"]
    [listed] = [item for item in client.get("/api/v1/connections").json()["items"] if item["name"] == "ghe"]
    assert listed["config"]["repositories"] == ["ghe-org/*", "ghe-org/ledger"]
    assert client.app.state.plugins.connection("github", "ghe").config.repositories == ["ghe-org/*", "ghe-org/ledger"]


def test_the_api_refuses_a_bad_pattern_naming_the_field_and_value(client):
    response = client.post("/api/v1/connections", json={"plugin": "jira", "name": "site",
                                                        "config": {"projects": ["SHIP", "9lives"]}})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("invalid jira connection: projects:") and "'9lives' is not a project key" in message


def test_the_form_takes_one_repository_per_line_and_the_page_lists_them(client):
    page = client.get("/admin/connections", headers=HTML).text
    assert '<textarea id="github-repositories" name="repositories"' in page
    assert "Sync only these repositories, one per line" in page
    assert 'id="cdevents-feed_url" name="feed_url" type="text"' in page
    assert 'id="cdevents-token" name="token" type="password"' in page

    saved = client.post("/admin/connections", data={
        "plugin": "gitlab", "connection_name": "self-managed", "api_url": "https://gitlab.example.com/api/v4",
        "repositories": "platform/**\r\nsales/crm\r\n"}, follow_redirects=False, headers=csrf_headers(client))
    assert saved.status_code == 303
    page = client.get(saved.headers["location"], headers=HTML).text
    assert "<code>repositories</code>: platform/**, sales/crm" in page
    assert client.app.state.plugins.connection("gitlab", "self-managed").config.repositories == [
        "platform/**", "sales/crm"]


def test_a_bad_line_in_the_form_is_shown_with_the_reason(client):
    response = client.post("/admin/connections", data={
        "plugin": "github", "connection_name": "x", "repositories": "octo-org/api\nnot a repo"})
    assert response.status_code == 400
    assert "is not a repository name or pattern" in response.text


def test_cdevents_feed_settings_are_saved_with_the_token_sealed(client):
    response = client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "tekton", "config": {
        "feed_url": "https://events.example.com/feed", "token": "feed-secret"}})
    assert response.status_code == 201, response.text
    assert response.json()["config"] == {"feed_url": "https://events.example.com/feed", "token": "encrypted"}
    bad = client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "bad",
                                                    "config": {"feed_url": "events.example.com"}})
    assert bad.status_code == 400 and "is not an http(s) URL" in bad.json()["error"]["message"]


def test_environment_connections_show_their_list_but_no_secret(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_TOKEN", "ghp_envsecret")
    monkeypatch.setenv("FLOWPORT_GITHUB_REPOSITORIES", "octo-org/*,octo-org/api")
    with TestClient(create_app(settings)) as client:
        items = client.get("/api/v1/connections").json()["items"]
        [github] = [item for item in items if item["plugin"] == "github"]
        assert github["config"] == {"from": "environment", "repositories": ["octo-org/*", "octo-org/api"]}
        page = client.get("/admin/connections", headers=HTML).text
    assert "octo-org/*, octo-org/api" in page and "ghp_envsecret" not in page
