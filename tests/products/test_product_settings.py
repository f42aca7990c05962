"""Product settings: only the product's owners (also through child groups) and admins change them; what
they set shows on the product page and closes or opens ideas; hostile values get a 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from contextlib import ExitStack

from portal.app import create_app
from portal.audit.models import AuditEvent
from tests.auth.people import production_settings, sign_in
from tests.requests.factories import OWNER, REQUESTER, group, seed_request_catalog, store, user
from tests.web.csrf_support import csrf_headers, dev_sign_in

API = "/api/v1/products/delivery-platform/settings"
PAGE = "/products/delivery-platform/settings"
ADMIN = "user:default/ada.admin"
CHILD_OWNER = "user:default/carla.child"  # in team-dx-cicd, a child group of team-dx (the owner)
GOOD = {"ideasOpen": False, "announcement": "Builds are **slow** today", "supportUrl": "https://chat.example/dx"}


@pytest.fixture
def people(session):
    seed_request_catalog(session)
    child = group("team-dx-cicd", ["carla.child"])
    child["spec"]["parent"] = "team-dx"
    store(session, [child, user("carla.child", ["team-dx-cicd"]),
                    group("platform-admins", ["ada.admin"]), user("ada.admin", ["platform-admins"])])


@pytest.fixture
def app(settings, people):
    return create_app(settings.model_copy(update={"env": "development",
                                                  "admins": ["group:default/platform-admins"]}))


@pytest.fixture
def client_as(app):
    """`client_as(user_ref)`: a client of the development app signed in as that catalog user."""
    with ExitStack() as stack:
        def signed_in(user_ref: str) -> TestClient:
            client = stack.enter_context(TestClient(app))
            dev_sign_in(client, user_ref)
            return client
        yield signed_in


@pytest.mark.parametrize(("who", "status"), [(OWNER, 200), (CHILD_OWNER, 200), (ADMIN, 200), (REQUESTER, 403)])
def test_only_owners_and_admins_change_settings(client_as, who, status):
    client = client_as(who)
    answer = client.put(API, json=GOOD)
    assert answer.status_code == status, answer.text
    if status == 403:
        message = answer.json()["error"]["message"]
        assert "team-dx" in message and "Rui Requester" in message
        assert client.get(API).json() == {"ideasOpen": True, "announcement": None, "supportUrl": None}
    else:
        assert client.get(API).json() == GOOD


def test_production_refuses_anonymous_changes_and_records_each_decision(settings, people, session):
    app = create_app(production_settings(settings, admins=["group:default/platform-admins"]))
    with TestClient(app) as anonymous, TestClient(app) as owner:
        assert anonymous.put(API, json=GOOD).status_code in (401, 403)
        sign_in(owner, app.state.settings, OWNER)
        assert owner.put(API, json=GOOD).status_code == 200
    rows = session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome)
                           .where(AuditEvent.action == "products.settings.change")).all()
    assert ("user:default/olga.owner", "products.settings.change", "succeeded") in [tuple(row) for row in rows]
    assert ("anonymous", "products.settings.change", "denied") in [tuple(row) for row in rows]


@pytest.mark.parametrize(("body", "field"), [
    ({"supportUrl": "javascript:alert(1)"}, "supportUrl"),
    ({"supportUrl": "/relative/path"}, "supportUrl"),
    ({"announcement": "x" * 2001}, "announcement"),
    ({"ideasOpen": "sometimes"}, "ideasOpen"),
    ({"owner": "group:default/me"}, "owner"),
])
def test_bad_settings_are_400_naming_the_field_and_change_nothing(client_as, body, field):
    client = client_as(OWNER)
    answer = client.put(API, json=body)
    assert answer.status_code == 400  # the portal answers a body that does not fit its schema with 400
    assert field in answer.json()["error"]["message"]
    assert client.get(API).json()["ideasOpen"] is True


def test_a_nul_byte_is_refused_before_the_route(client_as):
    client = client_as(OWNER)
    assert client.put(API, json={"announcement": "a\u0000b"}).status_code == 400


def test_closed_ideas_refuse_new_ideas_but_not_orders(client_as):
    owner, requester = client_as(OWNER), client_as(REQUESTER)
    assert owner.put(API, json={"ideasOpen": False}).status_code == 200
    idea = requester.post("/api/v1/requests", json={"kind": "idea", "product": "delivery-platform", "title": "t"})
    assert idea.status_code == 409 and "not taking ideas" in idea.text
    order = requester.post("/api/v1/requests", json={"kind": "order", "capability": "feature-flags"})
    assert order.status_code == 201
    assert owner.put(API, json={"ideasOpen": True}).status_code == 200
    again = requester.post("/api/v1/requests", json={"kind": "idea", "product": "delivery-platform", "title": "t"})
    assert again.status_code == 201


def test_the_product_page_shows_the_announcement_sanitized_and_the_support_link(client_as):
    owner = client_as(OWNER)
    owner.put(API, json={"announcement": "**Slow** <script>alert(1)</script><img src=x onerror=alert(2)>",
                         "supportUrl": "mailto:dx@example.com"})
    page = client_as(REQUESTER).get("/products/delivery-platform", headers={"accept": "text/html"}).text
    assert "<strong>Slow</strong>" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page  # shown as text, not as tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="mailto:dx@example.com"' in page
    assert f'href="{PAGE}"' not in page  # the requester may not change settings, so no link
    assert f'href="{PAGE}"' in owner.get("/products/delivery-platform", headers={"accept": "text/html"}).text


def test_the_settings_form_saves_shows_errors_inline_and_refuses_others(client_as):
    owner = client_as(OWNER)
    form = owner.get(PAGE, headers={"accept": "text/html"})
    assert form.status_code == 200 and 'name="support_url"' in form.text
    token = csrf_headers(owner)["X-CSRF-Token"]
    bad = owner.post(PAGE, data={"csrf_token": token, "announcement": "kept", "support_url": "javascript:x"},
                     follow_redirects=False)
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "http(s) or mailto" in bad.text and ">kept</textarea>" in bad.text
    good = owner.post(PAGE, data={"csrf_token": token, "ideas_open": "on", "announcement": "Hello",
                                  "support_url": "https://help.example"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/products/delivery-platform"
    assert owner.get(API).json() == {"ideasOpen": True, "announcement": "Hello", "supportUrl": "https://help.example"}
    refused = client_as(REQUESTER).get(PAGE, headers={"accept": "text/html"})
    assert refused.status_code == 403 and "team-dx" in refused.text and "Traceback" not in refused.text
