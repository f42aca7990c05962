"""Development sign-in: pick a catalog user, see who you are, sign out; off outside development."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.web.csrf_support import csrf_headers

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
def dev_client(dev_settings):
    with TestClient(create_app(dev_settings)) as client:
        yield client


def test_sign_in_page_lists_users_with_groups(dev_client):
    html = dev_client.get("/auth/sign-in").text
    assert "<th scope=\"row\">Alice Andersen</th>" in html
    assert "team-runtime" in html
    assert 'name="user_ref" value="user:default/alice.andersen"' in html


def test_dev_sign_in_sets_identity_and_header(dev_client):
    response = dev_client.post("/auth/dev/sign-in", data={"user_ref": "user:default/alice.andersen", "next": "/products"},
                               follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/products"
    identity = dev_client.get("/api/v1/identity").json()
    assert identity["userEntityRef"] == "user:default/alice.andersen"
    assert identity["displayName"] == "Alice Andersen"
    assert "group:default/team-runtime" in identity["ownershipEntityRefs"]
    assert "Signed in as <a href=\"/catalog/default/user/alice.andersen\">Alice Andersen</a>" in dev_client.get("/").text
    dev_client.post("/auth/sign-out", data={"next": "/"}, headers=csrf_headers(dev_client))
    assert dev_client.get("/api/v1/identity").json()["authenticated"] is False


def test_sign_in_never_redirects_off_site(dev_client):
    response = dev_client.post("/auth/dev/sign-in", data={"user_ref": "user:default/bruno.costa",
                                                          "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_unknown_user_is_rejected(dev_client):
    response = dev_client.post("/auth/dev/sign-in", data={"user_ref": "user:default/nobody"},
                               headers={"accept": "text/html"})
    assert response.status_code == 400
    assert "There is no catalog User" in response.text


def test_outside_development_sign_in_is_not_configured(client):
    page = client.get("/auth/sign-in")
    assert page.status_code == 200
    assert "Sign-in providers are not configured" in page.text
    assert "alice.andersen" not in page.text
    response = client.post("/auth/dev/sign-in", data={"user_ref": "user:default/alice.andersen"},
                           headers=csrf_headers(client))
    assert response.status_code == 404
    assert client.get("/api/v1/identity").json()["userEntityRef"] is None


def test_sign_in_returns_to_the_page_it_was_opened_from(dev_client):
    assert 'href="/auth/sign-in?next=/products/runtime-platform"' in dev_client.get("/products/runtime-platform").text
    page = dev_client.get("/auth/sign-in?next=/products/runtime-platform").text
    assert 'name="next" value="/products/runtime-platform"' in page
