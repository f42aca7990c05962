"""Sign-in through a real OpenID Connect provider (a local one built on Authlib's server parts),
driven in Chromium and over HTTP: the catalog User is found by email, unknown people are refused or
become guests, and the session starts afresh."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from portal.app import create_app
from portal.auth.provider_config import AuthProviderConfig
from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider, Person
from tests.live_server import serve_in_thread
from tests.web.catalog_data import seed_catalog

PEOPLE = [
    Person("sub-alice", "Alice.Andersen@northwind.example", "Alice Andersen"),
    Person("sub-stranger", "stranger@elsewhere.example", "Sam Stranger"),
    Person("sub-unverified", "bruno.costa@northwind.example", "Not Bruno", email_verified=False),
]


@pytest.fixture
def provider():
    local = LocalProvider("http://placeholder", [], PEOPLE)
    with serve_in_thread(local.app()) as base:
        local.issuer = base
        yield local


def portal_settings(settings, provider, **overrides):
    corp = {"type": "oidc", "title": "Northwind SSO", "issuer": provider.issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, **overrides.pop("corp", {})}
    return settings.model_copy(update={"auth_providers": {"corp": AuthProviderConfig(**corp)}, **overrides})


@pytest.fixture
def portal(settings, session, provider):
    """The portal served over HTTP, with the local provider configured as `corp`."""
    seed_catalog(session)
    with serve_in_thread(create_app(portal_settings(settings, provider))) as base:
        provider.client.redirect_uris.append(f"{base}/auth/corp/callback")
        yield base


def sign_in_over_http(portal: str, person: str, planted: dict | None = None) -> httpx.Client:
    """Follow the whole redirect dance as a browser would, choosing `person` at the provider."""
    client = httpx.Client(base_url=portal, follow_redirects=False, timeout=10)
    start = client.get("/auth/corp/start", params={"next": "/catalog"})
    assert start.status_code == 302, start.text
    login_page = httpx.get(start.headers["location"], timeout=10)
    assert login_page.status_code == 200, login_page.text
    action = re.search(r'action="([^"]+)"', login_page.text).group(1).replace("&amp;", "&")
    provider_base = re.match(r"https?://[^/]+", start.headers["location"]).group(0)
    back = httpx.post(provider_base + action, data={"sub": person}, timeout=10)
    assert back.status_code == 302, back.text
    client.callback = client.get(back.headers["location"])  # type: ignore[attr-defined]
    return client


def test_a_person_with_a_catalog_user_signs_in_by_email(portal):
    client = sign_in_over_http(portal, "sub-alice")
    assert client.callback.status_code == 303 and client.callback.headers["location"] == "/catalog"
    identity = client.get("/api/v1/identity").json()
    assert identity["userEntityRef"] == "user:default/alice.andersen" and identity["authenticated"]
    assert "group:default/team-runtime" in identity["ownershipEntityRefs"]


def test_someone_without_a_catalog_user_is_refused_by_default(portal):
    client = sign_in_over_http(portal, "sub-stranger")
    assert client.callback.status_code == 403
    assert "no catalog User matches" in client.callback.text and "stranger@elsewhere.example" in client.callback.text
    assert client.get("/api/v1/identity").json()["authenticated"] is False


def test_an_unverified_email_is_refused(portal):
    client = sign_in_over_http(portal, "sub-unverified")
    assert client.callback.status_code == 403 and "not verified" in client.callback.text
    assert client.get("/api/v1/identity").json()["authenticated"] is False


def test_a_callback_with_a_forged_state_signs_nobody_in(portal):
    client = httpx.Client(base_url=portal, timeout=10)
    client.get("/auth/corp/start", follow_redirects=False)
    forged = client.get("/auth/corp/callback", params={"code": "stolen-code", "state": "not-the-state"})
    assert forged.status_code == 400 and "did not complete" in forged.text
    assert "Traceback" not in forged.text
    assert client.get("/api/v1/identity").json()["authenticated"] is False


def test_an_unknown_provider_is_a_404_page(portal):
    response = httpx.get(f"{portal}/auth/nope/start", timeout=10)
    assert response.status_code == 404 and "no sign-in provider named" in response.text


@pytest.fixture
def guest_portal(settings, session, provider):
    seed_catalog(session)
    with serve_in_thread(create_app(portal_settings(settings, provider, auth_unknown_users="guest"))) as base:
        provider.client.redirect_uris.append(f"{base}/auth/corp/callback")
        yield base


def test_unknown_people_become_guests_when_configured(guest_portal):
    client = sign_in_over_http(guest_portal, "sub-stranger")
    assert client.callback.status_code == 303
    identity = client.get("/api/v1/identity").json()
    assert identity["userEntityRef"] == "user:guest/corp.stranger"
    assert identity["displayName"] == "Sam Stranger"
    # A guest owns nothing and belongs to no group.
    assert identity["ownershipEntityRefs"] == ["user:guest/corp.stranger"]


@pytest.fixture
def domain_portal(settings, session, provider):
    seed_catalog(session)
    corp = {"resolver": "email-local-part", "allowed_domains": "northwind.example"}
    with serve_in_thread(create_app(portal_settings(settings, provider, corp=corp))) as base:
        provider.client.redirect_uris.append(f"{base}/auth/corp/callback")
        yield base


def test_the_local_part_resolver_checks_the_domain(domain_portal):
    alice = sign_in_over_http(domain_portal, "sub-alice")
    assert alice.get("/api/v1/identity").json()["userEntityRef"] == "user:default/alice.andersen"
    stranger = sign_in_over_http(domain_portal, "sub-stranger")
    assert stranger.callback.status_code == 403 and "elsewhere.example may not sign in" in stranger.callback.text


@pytest.mark.browser
def test_sign_in_in_the_browser(browser, portal):
    context = browser.new_context(base_url=portal)
    try:
        page = context.new_page()
        page.goto("/auth/sign-in?next=/products")
        page.get_by_role("link", name="Sign in with Northwind SSO").click()
        expect(page.get_by_role("heading", name="Local provider")).to_be_visible()
        page.get_by_role("button", name="Continue as Alice Andersen").click()
        expect(page).to_have_url(re.compile(r"/products$"))
        expect(page.locator(".whoami")).to_have_text("Signed in as Alice Andersen")
    finally:
        context.close()
