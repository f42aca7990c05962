"""The request guards (portal/web/guards.py): CSRF tokens, the Origin check, body limits and hostile input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.web.csrf_support import csrf_headers

FORM = {"plugin": "cdevents", "connection_name": "tekton"}
HTML = {"Accept": "text/html"}


@pytest.fixture
def dev_client(dev_settings, seeded):
    with TestClient(create_app(dev_settings)) as client:
        yield client


def signed_in(client, user: str = "user:default/alice.andersen") -> TestClient:
    client.post("/auth/dev/sign-in", data={"user_ref": user}, follow_redirects=False)
    client.get("/admin/connections", headers=HTML)  # a page view issues the session's token
    return client


def connections(client) -> list[str]:
    return [f"{item['plugin']}/{item['name']}" for item in client.get("/api/v1/connections").json()["items"]]


def test_a_signed_in_form_post_without_a_token_is_refused_and_changes_nothing(dev_client):
    signed_in(dev_client)
    response = dev_client.post("/admin/connections", data=FORM, headers=HTML)
    assert response.status_code == 403
    assert "no valid CSRF token" in response.text and "<html" in response.text
    assert "cdevents/tekton" not in connections(dev_client)


def test_a_wrong_token_is_refused(dev_client):
    signed_in(dev_client)
    response = dev_client.post("/admin/connections", data={**FORM, "csrf_token": "not-the-token"})
    assert response.status_code == 403
    response = dev_client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "x", "config": {}},
                               headers={"X-CSRF-Token": "not-the-token"})
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]


def test_the_token_of_the_page_in_the_form_or_the_header_lets_the_change_through(dev_client):
    page = signed_in(dev_client).get("/admin/connections", headers=HTML).text
    token = csrf_headers(dev_client)["X-CSRF-Token"]
    assert f'name="csrf_token" value="{token}"' in page
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page
    saved = dev_client.post("/admin/connections", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    deleted = dev_client.delete("/api/v1/connections/cdevents/tekton", headers={"X-CSRF-Token": token})
    assert deleted.status_code == 204


def test_the_token_changes_when_the_user_signs_in(dev_client):
    dev_client.get("/auth/sign-in", headers=HTML)
    before = csrf_headers(dev_client)["X-CSRF-Token"]
    dev_client.post("/auth/dev/sign-in", data={"user_ref": "user:default/alice.andersen", "csrf_token": before},
                    follow_redirects=False)
    # The token of the anonymous page no longer works for the signed-in user.
    refused = dev_client.post("/admin/connections", data={**FORM, "csrf_token": before})
    assert refused.status_code == 403
    dev_client.get("/", headers=HTML)
    after = csrf_headers(dev_client)["X-CSRF-Token"]
    assert after != before
    assert dev_client.post("/admin/connections", data={**FORM, "csrf_token": after},
                           follow_redirects=False).status_code == 303


@pytest.mark.parametrize("headers, reason", [
    ({"Origin": "http://evil.example"}, "Origin 'http://evil.example' is not this portal"),
    ({"Origin": "http://testserver:8001"}, "is not this portal"),
    ({"Origin": "null"}, "Origin is null"),
    ({"Sec-Fetch-Site": "cross-site"}, "cross-site page"),
    ({"Sec-Fetch-Site": "same-site"}, "same-site page"),
])
def test_cross_origin_changes_are_refused_with_or_without_a_cookie(client, headers, reason):
    response = client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "x", "config": {}},
                           headers=headers)
    assert response.status_code == 403
    assert reason in response.json()["error"]["message"]
    form = client.post("/admin/connections", data=FORM, headers={**headers, **HTML})
    assert form.status_code == 403 and "<html" in form.text
    assert connections(client) == []


def test_same_origin_and_cookieless_api_clients_need_no_token(client):
    same = client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "a", "config": {}},
                       headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 201
    curl = client.post("/api/v1/connections", json={"plugin": "cdevents", "name": "b", "config": {}})
    assert curl.status_code == 201


def test_a_configured_trusted_origin_may_send_changes(settings):
    trusted = settings.model_copy(update={"trusted_origins": ["https://portal.example.com"]})
    with TestClient(create_app(trusted)) as client:
        response = client.post("/api/catalog/entities/by-refs", json={"entityRefs": []},
                               headers={"Origin": "https://portal.example.com"})
        assert response.status_code == 200


def test_webhooks_are_exempt_from_the_origin_check(client):
    response = client.post("/webhooks/github", content=b"{}", headers={"Origin": "http://evil.example",
                                                                       "Content-Type": "application/json"})
    assert response.status_code != 403 or "Cross-origin" not in response.text


def test_an_oversize_body_is_refused_by_its_length_in_each_callers_shape(app, settings):
    small = settings.model_copy(update={"request_max_bytes": 1000})
    with TestClient(create_app(small)) as client:
        body = json.dumps({"entityRefs": ["component:default/x" * 5] * 100})
        catalog = client.post("/api/catalog/entities/by-refs", content=body,
                              headers={"Content-Type": "application/json"})
        assert catalog.status_code == 413
        assert catalog.json()["error"]["name"] == "PayloadTooLargeError"
        assert "larger than 1,000 bytes" in catalog.json()["error"]["message"]
        assert catalog.json()["response"] == {"statusCode": 413}
        api = client.post("/api/v1/connections", content=body, headers={"Content-Type": "application/json"})
        assert api.status_code == 413 and "FLOWPORT_REQUEST_MAX_BYTES" in api.json()["error"]["message"]
        page = client.post("/admin/connections", data={"plugin": "x" * 2000}, headers=HTML)
        assert page.status_code == 413 and "That request is too large" in page.text


def test_a_streamed_body_without_length_is_counted(settings):
    small = settings.model_copy(update={"request_max_bytes": 1000})

    def chunks():
        for _ in range(10):
            yield b'{"entityRefs": [' + b'"a",' * 100 + b'"b"]}'

    with TestClient(create_app(small)) as client:
        response = client.post("/api/catalog/entities/by-refs", content=chunks(),
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 413


def test_webhooks_are_not_held_to_the_api_body_limit(settings):
    small = settings.model_copy(update={"request_max_bytes": 10})
    with TestClient(create_app(small)) as client:
        response = client.post("/webhooks/github", content=b"{" + b" " * 100 + b"}",
                               headers={"Content-Type": "application/json"})
        assert response.status_code != 413


def test_by_refs_takes_at_most_a_thousand_refs(client):
    refs = [f"component:default/c{n}" for n in range(1001)]
    response = client.post("/api/catalog/entities/by-refs", json={"entityRefs": refs})
    assert response.status_code == 400
    assert "at most 1000 entityRefs" in response.json()["error"]["message"]
    assert client.post("/api/catalog/entities/by-refs", json={"entityRefs": refs[:1000]}).status_code == 200


@pytest.mark.parametrize("url", [
    "/api/catalog/entities/by-query?filter=kind=%00", "/api/catalog/entities/by-query?fullTextFilterTerm=a%00b",
    "/api/catalog/entities/by-name/component/default/a%00b", "/api/v1/flow/changes?entity=component:default/%00",
    "/api/catalog/entity-facets?facet=kind&filter=%00=x", "/catalog?q=%00", "/catalog/default/component/x%00",
])
def test_a_nul_anywhere_in_the_url_is_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.text


@pytest.mark.parametrize("body", [
    '{"entityRefs": ["component:default/a\\u0000b"]}', '{"entityRefs": ["x"], "fields": ["\\u0000"]}',
    '{"entityRefs": ["\\\\\\u0000"]}',
])
def test_a_nul_in_a_json_body_is_a_400(client, body):
    response = client.post("/api/catalog/entities/by-refs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "NUL character" in response.json()["error"]["message"]


def test_an_escaped_backslash_before_u0000_is_just_text(client):
    body = '{"entityRefs": ["component:default/a\\\\u0000"]}'
    response = client.post("/api/catalog/entities/by-refs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json() == {"items": [None]}


def test_a_nul_in_a_form_is_a_400(client):
    response = client.post("/admin/connections", content=b"plugin=git%00hub&connection_name=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded", **HTML})
    assert response.status_code == 400 and "NUL character" in response.text


def test_json_nested_a_thousand_deep_is_a_400(client):
    deep = "[" * 1000 + "]" * 1000
    response = client.post("/api/catalog/validate-entity", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nests deeper than 64 levels" in response.json()["error"]["message"]
    # Brackets inside strings are text, not nesting.
    text = json.dumps({"entityRefs": ["[" * 500], "fields": []})
    assert client.post("/api/catalog/entities/by-refs", content=text,
                       headers={"Content-Type": "application/json"}).status_code == 200


def test_every_response_carries_the_security_headers(client):
    for response in (client.get("/catalog", headers=HTML), client.get("/api/catalog/entities/by-query"),
                     client.get("/healthz"), client.get("/nowhere")):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers


def test_hsts_only_over_https(app):
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
