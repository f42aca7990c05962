"""Where a connection sends its requests (and token): the plugin's own host or an allowed one, never an
internal address, never with credentials in the URL; checked at save and again at load."""

from __future__ import annotations

from tests.web.csrf_support import assert_refused_for_nul

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.app import create_app
from portal.plugins.connections import _refuse_url, url_fields
from portal.plugins.models import PluginConnection

HTML = {"Accept": "text/html"}


@pytest.fixture
def closed_client(settings):
    """An app whose FLOWPORT_URL_ALLOW_HOSTS is empty, as production starts."""
    with TestClient(create_app(settings.model_copy(update={"url_allow_hosts": []}))) as client:
        yield client


def _post(client, plugin: str, config: dict):  # noqa: ANN001, ANN202
    return client.post("/api/v1/connections", json={"plugin": plugin, "name": "probe", "config": config})


@pytest.mark.parametrize(("url", "reason"), [
    ("http://attacker", "host 'attacker' is not allowed: use the plugin's own host api.github.com"),
    ("https://ghe.example.com/api/v3", "host 'ghe.example.com' is not allowed"),
    ("http://127.0.0.1:8000/api", "loopback, private or link-local"),
    ("http://[::1]/", "loopback, private or link-local"),
    ("http://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
    ("https://127.1/", "loopback, private or link-local"),
    ("https://2130706433/", "loopback, private or link-local"),
    ("https://[::ffff:10.0.0.1]/", "loopback, private or link-local"),
    ("http://user:pass@api.github.com", "must not carry a user name or password"),
    ("https://api.github.com@attacker.example", "must not carry a user name or password"),
    ("https://api.github.com\\@attacker.example", "without spaces or control characters"),
    ("https://api.github.com\x00.attacker.example", "without spaces or control characters"),
    ("javascript:alert(document.cookie)", "must be an http(s) URL"),
    ("file:///etc/passwd", "must be an http(s) URL"),
    ("//api.github.com", "must be an http(s) URL"),
    ("https://api.github.com:99999", "invalid port"),
])
def test_an_api_url_that_could_leak_the_token_is_refused_with_the_reason(closed_client, url, reason):
    response = _post(closed_client, "github", {"api_url": url, "token": "ghp_never_sent"})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    if "\x00" in url:
        assert_refused_for_nul(response)  # by the request guards, before the connection code
        return
    assert message.startswith("invalid github connection: api_url") and reason in message
    assert "ghp_never_sent" not in response.text and "pass@" not in message
    assert closed_client.app.state.plugins.connection("github", "probe") is None


def test_internal_addresses_stay_refused_when_every_host_is_allowed(client):
    # The test settings allow "*": a wildcard is not an operator naming an internal host.
    for url in ("http://127.0.0.1/", "http://[::1]/", "http://10.1.2.3/", "http://0.0.0.0/"):
        assert _post(client, "github", {"api_url": url}).status_code == 400, url


def test_the_plugins_own_host_or_an_allowed_one_is_accepted(settings):
    allowed = {"url_allow_hosts": ["*.corp.example", "10.9.8.7"], "url_allow_private_networks": ["10.9.8.7/32"]}
    with TestClient(create_app(settings.model_copy(update=allowed))) as client:
        assert _post(client, "github", {"api_url": "https://api.github.com"}).status_code == 201
        assert _post(client, "gitlab", {"api_url": "https://gitlab.com/api/v4"}).status_code == 201
        assert _post(client, "pagerduty", {"api_url": "https://api.pagerduty.com"}).status_code == 201
        assert _post(client, "github", {"api_url": "https://ghe.corp.example/api/v3"}).status_code == 201
        # An internal address the operator allowed (host and private network) is theirs to allow.
        assert _post(client, "gitlab", {"api_url": "https://10.9.8.7/api/v4"}).status_code == 201
        assert _post(client, "gitlab", {"api_url": "https://10.9.8.8/api/v4"}).status_code == 400


def test_every_url_field_of_every_plugin_is_guarded(closed_client):
    assert _post(closed_client, "jira", {"site_url": "http://10.0.0.5"}).status_code == 400
    assert _post(closed_client, "jira", {"site_url": "https://acme.atlassian.net"}).status_code == 400
    refused = _post(closed_client, "cdevents", {"feed_url": "https://events.example.com/feed"})
    assert refused.status_code == 400 and "a host listed in FLOWPORT_URL_ALLOW_HOSTS" in refused.text
    for plugin in ("github", "gitlab", "jira", "pagerduty", "cdevents"):
        model = closed_client.app.state.plugins.classes[plugin].config_model
        assert url_fields(model), f"{plugin} has no URL field the guard sees"


def test_the_admin_form_refuses_a_bad_url_and_shows_why(closed_client):
    page = closed_client.post("/admin/connections", headers=HTML, data={
        "plugin": "gitlab", "connection_name": "internal", "api_url": "http://192.168.1.10/api/v4", "token": "glpat-x"})
    assert page.status_code == 400
    assert "loopback, private or link-local" in page.text and "glpat-x" not in page.text


def test_production_wants_https_unless_the_operator_named_the_host(settings):
    production = settings.model_copy(update={"env": "production", "url_allow_hosts": ["gitlab.corp.example"]})
    assert "must use https in production" in _refuse_url("api_url", "http://gitlab.com/api/v4",
                                                          "https://gitlab.com/api/v4", production)
    assert _refuse_url("api_url", "http://gitlab.corp.example/api/v4", "https://gitlab.com/api/v4", production) is None
    assert _refuse_url("api_url", "https://gitlab.com/api/v4", "https://gitlab.com/api/v4", production) is None
    wildcard = production.model_copy(update={"url_allow_hosts": ["*"]})
    assert "must use https" in _refuse_url("api_url", "http://anything.example", None, wildcard)


def test_a_stored_row_pointing_somewhere_refused_is_not_loaded(settings, engine):
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(PluginConnection(plugin="github", name="old", created_at=now, updated_at=now,
                                     config=json.dumps({"name": "old", "api_url": "http://169.254.169.254/"})))
        session.commit()
    with TestClient(create_app(settings)) as client:
        assert client.app.state.plugins.connection("github", "old") is None
        [github] = [p for p in client.get("/api/v1/plugins").json()["items"] if p["name"] == "github"]
        assert github["error"].startswith("connection 'old': api_url points at a loopback")
