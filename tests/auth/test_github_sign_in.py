"""Sign-in with GitHub OAuth against a stubbed GitHub (httpx.MockTransport with GitHub's answers)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.auth.provider_config import AuthProviderConfig
from portal.catalog.store import PreparedEntity, write_entities
from tests.web.catalog_data import LOCATION, seed_catalog, user

GITHUB = AuthProviderConfig(type="github", client_id="Iv1.flowport", client_secret="gh-secret")


class FakeGitHub:
    """GitHub's OAuth token endpoint and the two API calls sign-in makes, recording what it was sent."""

    def __init__(self, login: str, email: str = "alice.andersen@northwind.example") -> None:
        self.login, self.email = login, email
        self.token_error: str | None = None
        self.user_status = 200
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/login/oauth/access_token":
            form = parse_qs(request.content.decode())
            if self.token_error or form.get("code") != ["the-code"]:
                return httpx.Response(200, json={"error": self.token_error or "bad_verification_code",
                                                 "error_description": "The code passed is incorrect or expired."})
            return httpx.Response(200, json={"access_token": "gho_test", "token_type": "bearer",
                                             "scope": "read:user,user:email"})
        assert request.headers["authorization"] == "Bearer gho_test"
        if request.url.path == "/user":
            if self.user_status != 200:
                return httpx.Response(self.user_status, json={"message": "Server Error"})
            return httpx.Response(200, json={"login": self.login, "id": 583231, "name": "Octo Cat", "email": None},
                                  headers={"x-ratelimit-remaining": "4999"})
        if request.url.path == "/user/emails":
            return httpx.Response(200, json=[{"email": "old@example.com", "primary": False, "verified": True},
                                             {"email": self.email, "primary": True, "verified": True}])
        return httpx.Response(404, json={"message": "Not Found"})


@pytest.fixture
def github_app(settings, session):
    seed_catalog(session)
    annotated = user("dana.berg", "Dana Berg", ["team-runtime"])
    annotated["metadata"]["annotations"] = {"github.com/user-login": "octo-dana"}
    write_entities(session, [PreparedEntity(annotated, LOCATION, LOCATION)])
    session.commit()
    fake = FakeGitHub("octo-dana")
    app = create_app(settings.model_copy(update={"auth_providers": {"gh": GITHUB}}))
    app.state.auth_http_transport = httpx.MockTransport(fake)
    app.state.fake_github = fake
    return app


def sign_in(client: TestClient, code: str = "the-code") -> httpx.Response:
    start = client.get("/auth/gh/start", params={"next": "/products"}, follow_redirects=False)
    assert start.status_code == 302
    location = urlsplit(start.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "github.com", "/login/oauth/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == ["Iv1.flowport"] and query["scope"] == ["read:user user:email"]
    return client.get("/auth/gh/callback", params={"code": code, "state": query["state"][0]}, follow_redirects=False)


def test_the_annotated_user_signs_in(github_app):
    with TestClient(github_app) as client:
        callback = sign_in(client)
        assert callback.status_code == 303 and callback.headers["location"] == "/products"
        assert client.get("/api/v1/identity").json()["userEntityRef"] == "user:default/dana.berg"
    token_call = github_app.state.fake_github.requests[0]
    assert parse_qs(token_call.content.decode())["code"] == ["the-code"]


def test_a_login_named_like_a_user_signs_in_as_that_user(github_app):
    github_app.state.fake_github.login = "bruno.costa"
    with TestClient(github_app) as client:
        assert sign_in(client).status_code == 303
        assert client.get("/api/v1/identity").json()["userEntityRef"] == "user:default/bruno.costa"


def test_a_login_without_a_user_is_refused(github_app):
    github_app.state.fake_github.login = "octo-nobody"
    with TestClient(github_app) as client:
        refused = sign_in(client)
        assert refused.status_code == 403 and "no catalog User matches" in refused.text
        assert client.get("/api/v1/identity").json()["authenticated"] is False


def test_a_bad_code_is_a_readable_400(github_app):
    with TestClient(github_app) as client:
        refused = sign_in(client, code="wrong")
        assert refused.status_code == 400 and "did not complete" in refused.text
        assert "gh-secret" not in refused.text


def test_github_failing_is_a_readable_502(github_app):
    github_app.state.fake_github.user_status = 502
    with TestClient(github_app) as client:
        failed = sign_in(client)
        assert failed.status_code == 502 and "GitHub did not answer as expected" in failed.text


def test_sign_in_attempts_are_audited(github_app):
    github_app.state.fake_github.login = "octo-nobody"
    with TestClient(github_app) as client:
        sign_in(client)
        github_app.state.fake_github.login = "octo-dana"
        sign_in(client)
    with TestClient(github_app) as reader:  # anonymous: the test environment's playground rights
        events = reader.get("/api/v1/audit", params={"action": "auth.session.create"}).json()["items"]
    assert [(e["actor"], e["outcome"]) for e in events] == [("user:default/dana.berg", "succeeded"),
                                                            ("anonymous", "denied")]
    assert "octo-nobody" in json.dumps(events[1])
