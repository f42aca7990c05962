"""API tokens: created once (CLI or API), stored hashed, scoped, expiring, revocable, last use kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlmodel import Session

from portal.app import create_app
from portal.auth.token_models import ApiToken
from portal.auth.tokens import issue_token
from tests.test_cli import run_cli
from tests.web.csrf_support import dev_sign_in
from tests.web.catalog_data import seed_catalog

CONNECTION = {"plugin": "github", "name": "by-token", "config": {}}


@pytest.fixture
def seeded_client(session, client):
    seed_catalog(session)
    return client


def personal_token(session, scopes=("read",), user="user:default/alice.andersen", lifetime=timedelta(days=1)) -> str:
    issued = issue_token(session, kind="personal", subject_ref=user, name="test", scopes=scopes,
                         created_by="test", lifetime=lifetime)
    session.commit()
    return issued.token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_cli_prints_a_token_once_that_then_authenticates(seeded_client, settings, engine):
    env = {"FLOWPORT_DATABASE_URL": settings.resolved_database_url, "FLOWPORT_ENV": "test"}
    created = run_cli(["token", "create", "--name", "ci deploy", "--user", "user:default/alice.andersen",
                       "--scopes", "read,admin", "--expires", "30d"], env)
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("fpt_")
    identity = seeded_client.get("/api/v1/identity", headers=bearer(token)).json()
    assert identity["userEntityRef"] == "user:default/alice.andersen" and identity["authenticated"]
    with Session(engine) as session:
        row = session.execute(select(ApiToken)).scalar_one()
        # Only a hash is kept: the secret part of the token appears nowhere in the row.
        assert token.split("_", 2)[2] not in repr(row.model_dump())
        assert row.last_used_at is not None and row.last_used_from == "testclient"
    listed = run_cli(["token", "list"], env)
    assert "ci deploy" in listed.stdout and token not in listed.stdout
    revoked = run_cli(["token", "revoke", row.prefix], env)
    assert revoked.exit_code == 0, revoked.output
    refused = seeded_client.get("/api/v1/identity", headers=bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_the_cli_refuses_unknown_users_and_bad_expiry(seeded_client, settings):
    env = {"FLOWPORT_DATABASE_URL": settings.resolved_database_url, "FLOWPORT_ENV": "test"}
    unknown = run_cli(["token", "create", "--name", "x", "--user", "user:default/nobody"], env)
    assert unknown.exit_code != 0 and "no catalog User" in unknown.output
    too_long = run_cli(["token", "create", "--name", "x", "--user", "user:default/alice.andersen",
                        "--expires", "2y"], env)
    assert too_long.exit_code != 0 and "within a year" in too_long.output
    both = run_cli(["token", "create", "--name", "x", "--user", "user:default/alice.andersen",
                    "--group", "group:default/team-runtime"], env)
    assert both.exit_code != 0 and "either --user" in both.output


def test_a_read_token_cannot_change_anything_even_where_anonymous_callers_may(session, settings):
    seed_catalog(session)
    admin_settings = settings.model_copy(update={"admins": ["user:default/alice.andersen"]})
    seeded_client = TestClient(create_app(admin_settings))
    token = personal_token(session, scopes=("read",))
    refused = seeded_client.post("/api/v1/connections", json=CONNECTION, headers=bearer(token))
    assert refused.status_code == 403
    assert "need" in refused.json()["error"]["message"] and "admin scope" in refused.json()["error"]["message"]
    admin = personal_token(session, scopes=("admin",))
    assert seeded_client.post("/api/v1/connections", json=CONNECTION, headers=bearer(admin)).status_code == 201
    [event] = seeded_client.get("/api/v1/audit", params={"outcome": "denied"}).json()["items"]
    assert event["actor"] == "user:default/alice.andersen" and "read" in event["reason"]


@pytest.mark.parametrize("presented", [
    "not-a-token", "fpt_short_x", "fpt_AAAAAAAAAAAA_" + "x" * 43, "fpt_AAAAAAAAAAAA_" + "x" * 42 + "\x00",
])
def test_anything_that_is_not_a_valid_token_is_a_401(seeded_client, presented):
    response = seeded_client.get("/api/v1/identity", headers={"Authorization": f"Bearer {presented}"})
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("the bearer token is not")


def test_an_expired_token_says_so(seeded_client, session, engine):
    token = personal_token(session)
    with engine.begin() as connection:
        connection.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    refused = seeded_client.get("/api/v1/identity", headers=bearer(token))
    assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]


def test_a_token_of_a_user_who_left_the_catalog_stops_working(seeded_client, session):
    token = personal_token(session, user="user:default/gone.person")
    refused = seeded_client.get("/api/v1/identity", headers=bearer(token))
    assert refused.status_code == 401 and "no longer in the catalog" in refused.json()["error"]["message"]


@pytest.fixture
def signed_in(settings, session):
    seed_catalog(session)
    with TestClient(create_app(settings.model_copy(update={"env": "development"}))) as client:
        dev_sign_in(client, "user:default/bruno.costa")
        yield client


def test_a_signed_in_user_creates_lists_and_revokes_their_token(signed_in):
    created = signed_in.post("/api/v1/tokens", json={"name": "laptop", "scopes": ["read", "request"],
                                                     "expiresIn": "7d"})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body.pop("token")
    assert body["subject"] == "user:default/bruno.costa" and body["scopes"] == ["read", "request"]
    listed = signed_in.get("/api/v1/tokens").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]] and "token" not in listed[0]
    with TestClient(signed_in.app) as script:
        assert script.get("/api/v1/identity", headers=bearer(token)).json()["userEntityRef"] == "user:default/bruno.costa"
        assert signed_in.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
        assert script.get("/api/v1/identity", headers=bearer(token)).status_code == 401
    # Someone else's token, or none: only admins may revoke those, and nobody learns which it was.
    assert signed_in.delete("/api/v1/tokens/nope").status_code == 403


@pytest.mark.parametrize("body", [
    {"name": "x", "scopes": []}, {"name": "x", "scopes": ["root"]}, {"name": "", "scopes": ["read"]},
    {"name": "x", "scopes": ["read"], "expiresIn": "5y"}, {"name": "x", "scopes": ["read"], "expiresIn": "-1d"},
    {"name": "x\x00", "scopes": ["read"]}, {"name": "x", "scopes": ["read"], "kind": "service", "group": "../x"},
])
def test_bad_token_requests_are_4xx(signed_in, body):
    response = signed_in.post("/api/v1/tokens", json=body)
    assert 400 <= response.status_code < 500, response.text


def test_anonymous_callers_get_no_personal_token(seeded_client):
    response = seeded_client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
    assert response.status_code == 400 and "signed-in catalog users" in response.text


def test_a_service_token_acts_for_its_group(seeded_client):
    created = seeded_client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"], "kind": "service",
                                                          "group": "group:default/team-runtime"})
    assert created.status_code == 201, created.text
    identity = seeded_client.get("/api/v1/identity", headers=bearer(created.json()["token"])).json()
    assert identity["userEntityRef"] == f"token:{created.json()['id']}"
    assert identity["ownershipEntityRefs"] == ["group:default/team-runtime"]


def test_an_admin_scope_gives_no_admin_rights_to_a_user_who_is_not_one(seeded_client, session):
    token = personal_token(session, scopes=("admin",), user="user:default/bruno.costa")
    refused = seeded_client.post("/api/v1/connections", json=CONNECTION, headers=bearer(token))
    assert refused.status_code == 403 and "not an admin" in refused.json()["error"]["message"]
