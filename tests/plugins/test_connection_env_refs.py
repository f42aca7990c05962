"""`env:NAME` secrets read only variables set aside for them (FLOWPORT_SECRET_ENV_PREFIX), at save and at load."""

from __future__ import annotations

from tests.web.csrf_support import assert_refused_for_nul

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.app import create_app
from portal.plugins.models import PluginConnection

SERVER_KEY = "the-servers-own-cookie-key-that-must-never-leave"


def _post(client, config: dict, name: str = "probe"):  # noqa: ANN001, ANN202
    return client.post("/api/v1/connections", json={"plugin": "github", "name": name, "config": config})


@pytest.mark.parametrize("name", [
    "FLOWPORT_SECRET_KEY",        # the prefix matches, but it is Flowport's own cookie key
    "FLOWPORT_SECRET_ENV_PREFIX",  # another Flowport setting under the prefix
    "FLOWPORT_SECRETS_KEY",
    "HOME", "AWS_SECRET_ACCESS_KEY", "FLOWPORT_DATABASE_URL",
    "flowport_secret_github",      # lower case: not what an operator exports
    "FLOWPORT_SECRET_../../etc/passwd",
    "FLOWPORT_SECRET_A\x00B",
    "FLOWPORT_SECRET_ GH",
    "",
])
def test_an_env_reference_outside_the_rule_is_refused_naming_the_rule(client, engine, monkeypatch, name):
    monkeypatch.setenv("FLOWPORT_SECRET_KEY", SERVER_KEY)
    response = _post(client, {"token": f"env:{name}", "webhook_secrets": [f"env:{name}"]})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    if "\x00" in name:
        # Refused by the request guards before the connection code sees it.
        assert_refused_for_nul(response)
        return
    assert "must name an upper-case environment variable (A-Z, 0-9, _) starting with FLOWPORT_SECRET_" in message
    assert "(FLOWPORT_SECRET_ENV_PREFIX) that is not a Flowport setting" in message
    assert "Traceback" not in message and SERVER_KEY not in response.text
    with Session(engine) as session:
        assert session.execute(select(PluginConnection)).first() is None
    assert client.app.state.plugins.connection("github", "probe") is None


def test_the_reported_exfiltration_is_refused(client, monkeypatch):
    monkeypatch.setenv("FLOWPORT_SECRET_KEY", SERVER_KEY)
    response = _post(client, {"api_url": "http://attacker", "token": "env:FLOWPORT_SECRET_KEY"})
    assert response.status_code == 400
    assert SERVER_KEY not in response.text


def test_a_pasted_token_after_env_is_not_repeated_in_the_error(client):
    response = _post(client, {"token": "env:ghp_R3alT0kenPastedByMistake"})
    assert response.status_code == 400
    assert "ghp_R3alT0kenPastedByMistake" not in response.text


def test_a_reference_under_the_prefix_works_and_the_prefix_is_a_setting(client, settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_SECRET_GITHUB_TOKEN", "ghp_from_env")
    monkeypatch.setenv("VAULT_GITHUB_TOKEN", "ghp_from_vault")
    assert _post(client, {"token": "env:FLOWPORT_SECRET_GITHUB_TOKEN"}).status_code == 201
    assert client.app.state.plugins.connection("github", "probe").config.token.get_secret_value() == "ghp_from_env"
    assert _post(client, {"token": "env:VAULT_GITHUB_TOKEN"}, name="vault").status_code == 400
    with TestClient(create_app(settings.model_copy(update={"secret_env_prefix": "VAULT_"}))) as vault:
        assert _post(vault, {"token": "env:VAULT_GITHUB_TOKEN"}, name="vault").status_code == 201
        assert _post(vault, {"token": "env:FLOWPORT_SECRET_GITHUB_TOKEN"}, name="other").status_code == 400


def _store_pre_fix_row(engine, name: str, config: dict) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(PluginConnection(plugin="github", name=name, config=json.dumps(config),
                                     created_at=now, updated_at=now))
        session.commit()


def test_a_row_stored_before_the_rule_is_not_opened_and_the_plugin_says_why(settings, engine, monkeypatch):
    monkeypatch.setenv("FLOWPORT_SECRET_KEY", SERVER_KEY)
    _store_pre_fix_row(engine, "old", {"name": "old", "api_url": "https://api.github.com",
                                      "token": {"env": "FLOWPORT_SECRET_KEY"}})
    with TestClient(create_app(settings)) as client:
        assert client.app.state.plugins.connection("github", "old") is None
        [github] = [p for p in client.get("/api/v1/plugins").json()["items"] if p["name"] == "github"]
        assert github["error"].startswith("connection 'old': token: an env: reference must name")
        assert "FLOWPORT_SECRET_ENV_PREFIX" in github["error"] and "save the connection again" in github["error"]
        assert SERVER_KEY not in client.get("/api/v1/plugins").text
        assert SERVER_KEY not in client.get("/api/v1/connections").text


def test_a_stored_reference_that_is_not_a_name_is_not_opened(settings, engine):
    _store_pre_fix_row(engine, "odd", {"name": "odd", "webhook_secrets": [{"env": ["HOME"]}, "plain"]})
    with TestClient(create_app(settings)) as client:
        assert client.app.state.plugins.connection("github", "odd") is None
        [github] = [p for p in client.get("/api/v1/plugins").json()["items"] if p["name"] == "github"]
        assert github["error"].startswith("connection 'odd': webhook_secrets:")
