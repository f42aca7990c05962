"""Helpers for the request page tests: people signed in as a browser, orders and ideas raised through the API."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.requests.factories import group, store, user
from tests.web.csrf_support import dev_sign_in

HTML = {"accept": "text/html,application/xhtml+xml"}
JSON = {"accept": "application/json"}
STRANGER = "user:default/stella.stranger"  # team-data: no part in any request of the tests


def add_stranger(session) -> None:
    store(session, [group("team-data", ["stella.stranger"]), user("stella.stranger", ["team-data"])])


@pytest.fixture
def involved_app(settings, catalog, session):
    """Development mode (people sign in as catalog users) where each person sees only what involves them."""
    add_stranger(session)
    return create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "involved"}))


@pytest.fixture
def person(involved_app) -> Iterator[Callable[[str | None], TestClient]]:
    """`person(user_ref)`: a browser-like client signed in as that user (None: anonymous)."""
    with ExitStack() as stack:
        def signed_in(user_ref: str | None) -> TestClient:
            client = stack.enter_context(TestClient(involved_app))
            if user_ref:
                dev_sign_in(client, user_ref)
            return client
        yield signed_in


def raise_order(client: TestClient, capability: str = "progressive-delivery", **body) -> str:
    response = client.post("/api/v1/requests", json={"kind": "order", "capability": capability, **body})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def raise_idea(client: TestClient, title: str = "Preview environments per PR",
               product: str = "delivery-platform", **body) -> str:
    response = client.post("/api/v1/requests", json={"kind": "idea", "product": product, "title": title, **body})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def move(client: TestClient, public_id: str, to: str) -> None:
    response = client.post(f"/api/v1/requests/{public_id}/transitions", json={"to": to})
    assert response.status_code == 200, response.text


def page(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text[:500]
    return response.text


def post_form(client: TestClient, path: str, data: dict, status: int = 303):  # noqa: ANN201
    response = client.post(path, data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == status, response.text[:800]
    return response


def stage_of(client: TestClient, public_id: str) -> str:
    return client.get(f"/api/v1/requests/{public_id}").json()["stage"]


def text_of(html: str) -> str:
    """The page's text without tags, whitespace folded: what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
