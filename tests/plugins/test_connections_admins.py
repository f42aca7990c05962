"""Connections are for admins: FLOWPORT_ADMINS names users or groups (members of child groups count too)."""

from __future__ import annotations

from tests.web.csrf_support import csrf_headers

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.auth.people import production_settings, seed_org, sign_in

NEW = {"plugin": "github", "name": "ghcom", "config": {"webhook_secrets": ["hook-secret"], "token": "ghp_admin"}}
HTML = {"Accept": "text/html"}


@pytest.fixture
def org(session) -> None:
    seed_org(session)


def _client(settings):  # noqa: ANN001, ANN202
    return TestClient(create_app(settings))


def _every_connection_action(client) -> dict[str, int]:  # noqa: ANN001
    """Status of each way to read or change connections, through the API and the admin page."""
    return {
        "api list": client.get("/api/v1/connections").status_code,
        "api create": client.post("/api/v1/connections", json=NEW).status_code,
        "api delete": client.delete("/api/v1/connections/github/ghcom").status_code,
        "page": client.get("/admin/connections", headers=HTML).status_code,
        # The page's forms carry its CSRF token (a browser that loaded the page sends it).
        "page save": client.post("/admin/connections", headers={**HTML, **csrf_headers(client)},
                                 follow_redirects=False, data={
            "plugin": "github", "connection_name": "fromform", "webhook_secrets": "s"}).status_code,
        "page delete": client.post("/admin/connections/github/fromform/delete", headers={**HTML, **csrf_headers(client)},
                                   follow_redirects=False).status_code,
    }


def test_production_anonymous_callers_must_sign_in(org, settings):
    with _client(production_settings(settings, admins=["group:default/platform-admins"])) as client:
        assert set(_every_connection_action(client).values()) == {401}


def test_a_signed_in_non_admin_is_refused_with_the_reason_in_every_mode(org, settings):
    for mode in (production_settings(settings, admins=["group:default/platform-admins"]),
                 settings.model_copy(update={"admins": ["group:default/platform-admins"]}),
                 settings.model_copy(update={"env": "development", "admins": ["user:default/alice"]})):
        with _client(mode) as client:
            sign_in(client, mode, "user:default/bruno")
            assert set(_every_connection_action(client).values()) == {403}, mode.env
            refused = client.post("/api/v1/connections", json=NEW).json()["error"]["message"]
            assert "Bruno Builder is not an admin" in refused and "FLOWPORT_ADMINS" in refused
            page = client.get("/admin/connections", headers=HTML)
            assert "is not an admin" in page.text and "Traceback" not in page.text


def test_a_member_of_a_child_of_a_child_of_an_admin_group_is_an_admin(org, settings):
    admin = production_settings(settings, admins=["group:default/platform-admins"])
    with _client(admin) as client:
        sign_in(client, admin, "user:default/alice")
        assert _every_connection_action(client) == {
            "api list": 200, "api create": 201, "api delete": 204, "page": 200, "page save": 303, "page delete": 303}


def test_a_user_named_directly_is_an_admin_and_other_users_are_not(org, settings):
    admin = production_settings(settings, admins=["user:default/bruno"])
    with _client(admin) as client:
        sign_in(client, admin, "user:default/bruno")
        assert client.post("/api/v1/connections", json=NEW).status_code == 201
        sign_in(client, admin, "user:default/alice")
        assert client.get("/api/v1/connections").status_code == 403


def test_without_any_admin_configured_nobody_signed_in_manages_connections(org, settings):
    admin = production_settings(settings)
    with _client(admin) as client:
        sign_in(client, admin, "user:default/alice")
        assert client.post("/api/v1/connections", json=NEW).status_code == 403


def test_anonymous_callers_keep_development_rights_outside_production(org, settings):
    for mode in ("development", "test"):
        with _client(settings.model_copy(update={"env": mode})) as client:
            assert _every_connection_action(client) == {
                "api list": 200, "api create": 201, "api delete": 204, "page": 200, "page save": 303,
                "page delete": 303}, mode


def test_a_session_for_a_user_the_catalog_does_not_know_is_anonymous(org, settings):
    admin = production_settings(settings, admins=["user:default/ghost"])
    with _client(admin) as client:
        sign_in(client, admin, "user:default/ghost")
        assert client.post("/api/v1/connections", json=NEW).status_code == 401
