"""Who may do what: every role against the privileged routes, in production and in development.

Roles: an admin (through a grandparent group), a signed-in user who is not one, and an anonymous
caller. Production never grants an anonymous caller more than reading the catalog; development keeps
anonymous callers' playground rights; a signed-in user has exactly their own rights in every mode."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.auth.people import production_settings, seed_org, sign_in
from tests.web.csrf_support import csrf_headers

ADMINS = ["group:default/platform-admins"]
ALLOWED = "allowed"  # anything but 401/403: the route ran (it may still say 404 or 400)

# (method, path, json body)
PRIVILEGED = [
    ("GET", "/api/v1/webhooks/deliveries", None),
    ("GET", "/api/v1/webhooks/deliveries/1", None),
    ("POST", "/api/v1/webhooks/replay", {"since": "2024-01-01T00:00:00Z"}),
    ("GET", "/admin/webhooks", None),
    ("GET", "/admin/webhooks/1", None),
    ("GET", "/admin/plugins", None),
    ("GET", "/api/v1/connections", None),
    ("POST", "/api/v1/connections", {"plugin": "github", "name": "matrix", "config": {}}),
    ("GET", "/api/v1/audit", None),
    ("GET", "/admin/audit", None),
    ("GET", "/api/v1/tokens?all=true", None),
]
OPEN_READS = [("GET", "/api/catalog/entities", None), ("GET", "/api/catalog/entities/by-query", None),
              ("GET", "/api/v1/products", None), ("GET", "/api/v1/identity", None)]
# Reads beyond the catalog: any signed-in user; anonymous callers in development only.
SIGNED_IN_READS = [("GET", "/api/v1/flow/deployments", None), ("GET", "/api/v1/flow/summary?entity=component:default/x", None),
                   ("GET", "/api/v1/requests", None), ("GET", "/api/v1/plugins", None)]


def outcome(client: TestClient, method: str, path: str, body: dict | None) -> str | int:
    # As a browser that loaded a page would: its CSRF token goes with changes.
    headers = {"accept": "text/html"} if "/admin/" in path else {}
    response = client.request(method, path, json=body, headers={**headers, **csrf_headers(client)})
    return response.status_code if response.status_code in (401, 403) else ALLOWED


@pytest.fixture
def org(session):
    seed_org(session)


def client_for(settings, role: str) -> TestClient:
    client = TestClient(create_app(settings))
    if role == "admin":
        sign_in(client, settings, "user:default/alice")
    elif role == "user":
        sign_in(client, settings, "user:default/bruno")
    return client


@pytest.mark.parametrize("mode", ["production", "development"])
@pytest.mark.parametrize("role, expected", [("admin", ALLOWED), ("user", 403), ("anonymous", None)])
def test_privileged_routes(org, settings, mode, role, expected):
    configured = (production_settings(settings, admins=ADMINS) if mode == "production"
                  else settings.model_copy(update={"env": "development", "admins": ADMINS}))
    if expected is None:  # anonymous: refused in production, the playground in development
        expected = 401 if mode == "production" else ALLOWED
    with client_for(configured, role) as client:
        answers = {f"{method} {path}": outcome(client, method, path, body) for method, path, body in PRIVILEGED}
        reads = {f"{method} {path}": outcome(client, method, path, body) for method, path, body in OPEN_READS}
        signed_in_reads = {f"{method} {path}": outcome(client, method, path, body)
                           for method, path, body in SIGNED_IN_READS}
    assert answers == dict.fromkeys(answers, expected)
    assert reads == dict.fromkeys(reads, ALLOWED)
    anonymous_in_production = role == "anonymous" and mode == "production"
    assert signed_in_reads == dict.fromkeys(signed_in_reads, 401 if anonymous_in_production else ALLOWED)


def test_a_refusal_says_why_and_admin_reads_of_raw_bodies_are_audited(org, settings):
    configured = production_settings(settings, admins=ADMINS)
    with client_for(configured, "user") as user:
        refused = user.get("/api/v1/webhooks/deliveries/1")
        assert refused.status_code == 403 and "not an admin" in refused.json()["error"]["message"]
    with client_for(configured, "admin") as admin:
        assert admin.get("/api/v1/webhooks/deliveries/1").status_code == 404
        events = admin.get("/api/v1/audit", params={"action": "admin.webhooks.body.read"}).json()["items"]
    assert [(e["actor"], e["outcome"]) for e in events] == [("user:default/alice", "failed"),
                                                            ("user:default/bruno", "denied")]
