"""Every privileged action is on the audit log: who, what, when, from where, outcome; append-only."""

from __future__ import annotations

import csv
import io
import json
import secrets

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.app import create_app
from tests.web.catalog_data import seed_catalog
from tests.web.csrf_support import dev_sign_in

GITHUB_CONNECTION = {"plugin": "github", "name": "audited", "config": {"webhook_secrets": ["s3cret-value"]}}


def audit_items(client, **params) -> list[dict]:
    response = client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_change_is_recorded_with_who_what_where_and_outcome(client):
    assert client.post("/api/v1/connections", json=GITHUB_CONNECTION).status_code == 201
    [event] = audit_items(client, action="plugins.connection.update")
    assert event["actor"] == "anonymous"  # the test environment's playground rights, as in development
    assert event["resource"] == "github/audited"
    assert (event["outcome"], event["statusCode"], event["method"], event["path"]) == (
        "succeeded", 201, "POST", "/api/v1/connections")
    assert event["clientAddress"] == "testclient" and event["userAgent"] == "testclient"
    assert "s3cret-value" not in json.dumps(event)


def test_an_allowed_action_that_fails_is_recorded_as_failed(client):
    bad = {"plugin": "github", "name": "broken", "config": {"api_url": 17}}
    assert client.post("/api/v1/connections", json=bad).status_code == 400
    [event] = audit_items(client, action="plugins.connection.update")
    assert (event["outcome"], event["statusCode"]) == ("failed", 400)


def test_plain_reads_are_not_recorded_but_reading_the_log_is(client):
    client.get("/api/catalog/entities")
    client.get("/api/v1/connections")
    items = audit_items(client)
    # The listing call itself is a privileged read: it is recorded (after it answered).
    assert items == []
    [event] = audit_items(client)
    assert event["action"] == "audit.events.list" and event["outcome"] == "succeeded"


@pytest.fixture
def signed_in_client(dev_settings, session):
    seed_catalog(session)
    session.commit()
    with TestClient(create_app(dev_settings)) as client:
        dev_sign_in(client, "user:default/alice.andersen")
        yield client


@pytest.fixture
def dev_settings(settings):
    return settings.model_copy(update={"env": "development", "admins": ["user:default/alice.andersen"]})


def test_the_signed_in_user_is_the_actor(signed_in_client):
    signed_in_client.delete("/api/v1/connections/github/nothing-here")
    [event] = audit_items(signed_in_client, actor="user:default/alice.andersen")
    assert (event["action"], event["resource"], event["outcome"], event["statusCode"]) == (
        "plugins.connection.delete", "github/nothing-here", "failed", 404)


def test_a_denied_action_is_recorded_with_its_reason(settings):
    production = settings.model_copy(update={
        "env": "production", "secret_key": secrets.token_urlsafe(48), "secrets_key": Fernet.generate_key().decode()})
    with TestClient(create_app(production)) as client:
        assert client.post("/api/v1/connections", json=GITHUB_CONNECTION).status_code == 401
    with TestClient(create_app(settings)) as reader:
        [event] = audit_items(reader, outcome="denied")
    assert (event["action"], event["actor"], event["statusCode"]) == ("plugins.connection.update", "anonymous", 401)
    assert "Sign in" in event["reason"]


def test_events_are_append_only(client, engine):
    client.post("/api/v1/connections", json=GITHUB_CONNECTION)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET actor = 'someone-else'"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM audit_events"))
    assert audit_items(client, action="plugins.connection.update")[0]["actor"] == "anonymous"


def test_pages_of_the_log_follow_the_cursor_and_keep_the_filters(client):
    for index in range(5):
        client.delete(f"/api/v1/connections/github/c{index}")
    first = client.get("/api/v1/audit", params={"action": "plugins.", "limit": 2}).json()
    assert first["totalItems"] == 5 and len(first["items"]) == 2
    seen = [e["resource"] for e in first["items"]]
    cursor = first["pageInfo"]["nextCursor"]
    while cursor:
        page = client.get("/api/v1/audit", params={"cursor": cursor, "limit": 2}).json()
        seen += [e["resource"] for e in page["items"]]
        cursor = page["pageInfo"].get("nextCursor")
    assert seen == [f"github/c{i}" for i in reversed(range(5))]


@pytest.mark.parametrize("params", [
    {"cursor": "not-a-cursor"}, {"cursor": "eyJiZWZvcmVfaWQiOiAiMSJ9"}, {"outcome": "maybe"},
    {"since": "yesterday"}, {"limit": "9223372036854775808"}, {"limit": "0"},
])
def test_bad_parameters_are_a_400_not_a_500(client, params):
    response = client.get("/api/v1/audit", params=params)
    assert response.status_code in (400, 422), response.text
    assert response.status_code < 500


def test_export_as_json_lines_and_csv_with_formulas_defused(client):
    client.delete("/api/v1/connections/github/=cmd|'calc'!A1")
    client.delete("/api/v1/connections/github/plain")
    lines = client.get("/api/v1/audit/export", params={"action": "plugins."}).text.splitlines()
    assert [json.loads(line)["resource"] for line in lines] == ["github/=cmd|'calc'!A1", "github/plain"]
    exported = client.get("/api/v1/audit/export", params={"format": "csv", "action": "plugins."})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["resource"] for row in rows] == ["github/=cmd|'calc'!A1", "github/plain"]
    actors = [row["actor"] for row in rows]
    assert actors == ["anonymous", "anonymous"]
    client.delete("/api/v1/connections/github/x", headers={"user-agent": "=HYPERLINK(\"http://evil\")"})
    last = list(csv.DictReader(io.StringIO(client.get("/api/v1/audit/export?format=csv&action=plugins.").text)))[-1]
    assert last["userAgent"].startswith("'=")


def test_the_admin_page_lists_events_and_escapes_what_callers_sent(client):
    client.delete("/api/v1/connections/github/<img src=x onerror=alert(1)>")
    page = client.get("/admin/audit", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "plugins.connection.delete" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert 'type="application/json" href="/api/v1/audit"' in page.text
    assert client.get("/admin/audit?outcome=nonsense", headers={"accept": "text/html"}).status_code == 400


def test_only_admins_read_the_log(dev_settings, session):
    seed_catalog(session)
    session.commit()
    with TestClient(create_app(dev_settings)) as client:
        dev_sign_in(client, "user:default/bruno.costa")
        refused = client.get("/api/v1/audit")
        assert refused.status_code == 403 and "not an admin" in refused.json()["error"]["message"]
        assert client.get("/admin/audit", headers={"accept": "text/html"}).status_code == 403
        assert client.get("/api/v1/audit/export").status_code == 403
