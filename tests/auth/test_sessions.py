"""Browser sessions: a fresh one at sign-in, idle and absolute expiry, and sign-out that ends the
user's sessions in every browser."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import itsdangerous
import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.auth.session_rules import session_refusal
from tests.web.catalog_data import seed_catalog
from tests.web.csrf_support import csrf_headers, dev_sign_in

ALICE = "user:default/alice.andersen"


@pytest.fixture
def dev_app(settings, session):
    seed_catalog(session)
    return create_app(settings.model_copy(update={"env": "development", "session_idle_minutes": 30,
                                                  "session_max_age_hours": 8}))


def who(client: TestClient) -> str | None:
    return client.get("/api/v1/identity").json()["userEntityRef"]


def cookie_session(client: TestClient) -> dict:
    return json.loads(base64.b64decode(client.cookies["session"].split(".")[0] + "=="))


def forge_session(client: TestClient, app, data: dict) -> None:
    payload = base64.b64encode(json.dumps(data).encode())
    # The domain httpx gives cookies the test server sets, so the forged one replaces the real one.
    client.cookies.set("session", itsdangerous.TimestampSigner(app.state.settings.secret_key).sign(payload).decode(),
                       domain="testserver.local")


def test_sign_out_ends_the_users_sessions_in_every_browser(dev_app):
    with TestClient(dev_app) as laptop, TestClient(dev_app) as phone:
        dev_sign_in(laptop, ALICE)
        dev_sign_in(phone, ALICE)
        assert who(laptop) == who(phone) == ALICE
        signed_out = laptop.post("/auth/sign-out", data={"next": "/", **csrf_field(laptop)}, follow_redirects=False)
        assert signed_out.status_code == 303
        assert who(laptop) is None
        assert who(phone) is None  # the other browser's cookie is still signed, but its session is over
        dev_sign_in(phone, ALICE)  # signing in again starts a session that lasts
        assert who(phone) == ALICE


def csrf_field(client: TestClient) -> dict:
    return {"csrf_token": csrf_headers(client)["X-CSRF-Token"]}


def test_a_value_planted_before_sign_in_does_not_survive_it(dev_app):
    with TestClient(dev_app) as client:
        forge_session(client, dev_app, {"planted": "attacker's", "csrf_token": "known", "csrf_user": None})
        # The victim opens the sign-in page and signs in with the form it shows (the planted session's token).
        client.get("/auth/sign-in", headers={"accept": "text/html"})
        assert client.post("/auth/dev/sign-in", data={"user_ref": ALICE, "csrf_token": "known"},
                           follow_redirects=False).status_code == 303
        after = cookie_session(client)
        assert "planted" not in after and after.get("csrf_token") != "known"
        assert after["user_ref"] == ALICE


@pytest.mark.parametrize("age, reason", [
    ({"signed_in_at": -60, "last_seen": -31 * 60}, "idle"),
    ({"signed_in_at": -9 * 3600, "last_seen": -60}, "maximum age"),
    ({}, "does not say"),
])
def test_an_idle_old_or_unstamped_session_is_signed_out(dev_app, age, reason):
    now = time.time()
    data = {"user_ref": ALICE, **{key: now + offset for key, offset in age.items()}}
    assert reason in session_refusal(data, None, 30 * 60, 8 * 3600, now)
    with TestClient(dev_app) as client:
        forge_session(client, dev_app, data)
        assert who(client) is None
        # The ended session is cleared from the browser, not kept around.
        assert "user_ref" not in (cookie_session(client) if client.cookies.get("session") else {})


def test_a_session_in_use_lasts_and_is_stamped_at_most_once_a_minute(dev_app):
    now = time.time()
    with TestClient(dev_app) as client:
        forge_session(client, dev_app, {"user_ref": ALICE, "signed_in_at": now - 600, "last_seen": now - 120})
        assert who(client) == ALICE
        assert cookie_session(client)["last_seen"] >= now
        stamped = client.cookies["session"]
        assert who(client) == ALICE and client.cookies["session"] == stamped


def test_a_revocation_only_ends_sessions_that_began_before_it():
    now = time.time()
    revoked = datetime.fromtimestamp(now - 10, UTC)
    assert session_refusal({"signed_in_at": now - 20, "last_seen": now}, revoked, 60, 3600, now)
    assert session_refusal({"signed_in_at": now - 5, "last_seen": now}, revoked, 60, 3600, now) is None


def test_an_admin_ends_someone_elses_sessions_and_nobody_else_may(settings, session):
    seed_catalog(session)
    app = create_app(settings.model_copy(update={"env": "development",
                                                 "admins": ["group:default/platform-engineering"]}))
    with TestClient(app) as admin, TestClient(app) as bruno, TestClient(app) as chiara:
        dev_sign_in(admin, ALICE)
        dev_sign_in(bruno, "user:default/bruno.costa")
        dev_sign_in(chiara, "user:default/chiara.rossi")
        refused = chiara.post("/api/v1/sessions/revoke", json={"user": "user:default/bruno.costa"})
        assert refused.status_code == 403 and who(bruno) == "user:default/bruno.costa"
        done = admin.post("/api/v1/sessions/revoke", json={"user": "user:default/bruno.costa"})
        assert done.status_code == 200, done.text
        assert who(bruno) is None and who(chiara) == "user:default/chiara.rossi"
        assert admin.post("/api/v1/sessions/revoke", json={"user": "../etc"}).status_code == 400
