"""Connections added through the API: typed validation, secrets sealed at rest, never returned."""

import hashlib
import hmac
import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.app import create_app
from portal.plugins.models import PluginConnection
from tests.conftest import FIXTURES

BODY = (FIXTURES / "github/octokit-webhooks/ping/payload.json").read_bytes()


def signed(secret: str) -> dict:
    return {"Content-Type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()}


def test_a_second_github_connection_receives_its_own_webhooks(client, engine):
    created = client.post("/api/v1/connections", json={
        "plugin": "github", "name": "enterprise",
        "config": {"api_url": "https://ghe.example.com/api/v3", "webhook_secrets": ["ghe-hook-secret"],
                   "token": "ghp_supersecret"},
    })
    assert created.status_code == 201, created.text
    assert created.json()["config"]["token"] == "encrypted"
    assert "ghp_supersecret" not in created.text and "ghe-hook-secret" not in created.text

    ok = client.post("/webhooks/github/enterprise", content=BODY, headers=signed("ghe-hook-secret"))
    assert ok.status_code == 202
    assert client.post("/webhooks/github/enterprise", content=BODY, headers=signed("wrong")).status_code == 401

    listed = client.get("/api/v1/connections").text
    assert "ghp_supersecret" not in listed and "enterprise" in listed

    with Session(engine) as session:
        row = session.execute(select(PluginConnection)).scalar_one()
    stored = json.loads(row.config)
    assert "ghp_supersecret" not in row.config
    assert set(stored["token"]) == {"encrypted"}


def test_stored_connections_are_rebuilt_when_the_portal_restarts(client, settings, engine):
    client.post("/api/v1/connections", json={"plugin": "github", "name": "second",
                                             "config": {"webhook_secrets": ["s2"]}})
    with TestClient(create_app(settings)) as restarted:
        assert restarted.post("/webhooks/github/second", content=BODY, headers=signed("s2")).status_code == 202


def test_secrets_can_be_referenced_by_environment_variable(client, settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_SECRET_GHE_HOOK", "from-the-env")
    response = client.post("/api/v1/connections", json={"plugin": "github", "name": "envref",
                                                        "config": {"webhook_secrets": ["env:FLOWPORT_SECRET_GHE_HOOK"]}})
    assert response.json()["config"]["webhook_secrets"] == ["env:FLOWPORT_SECRET_GHE_HOOK"]
    assert client.post("/webhooks/github/envref", content=BODY, headers=signed("from-the-env")).status_code == 202


def test_invalid_connections_are_refused_with_the_field_named(client):
    response = client.post("/api/v1/connections", json={"plugin": "github", "name": "bad",
                                                        "config": {"colour": "red"}})
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["message"]
    unknown = client.post("/api/v1/connections", json={"plugin": "svn", "config": {}})
    assert unknown.status_code == 400 and "no plugin named 'svn'" in unknown.json()["error"]["message"]


def test_deleting_a_connection_stops_its_webhooks(client):
    client.post("/api/v1/connections", json={"plugin": "github", "name": "gone",
                                             "config": {"webhook_secrets": ["s"]}})
    assert client.delete("/api/v1/connections/github/gone").status_code == 204
    assert client.post("/webhooks/github/gone", content=BODY, headers=signed("s")).status_code == 404
    assert client.delete("/api/v1/connections/github/gone").status_code == 404
