"""An app with people, a template and a capability it fulfils, and clients signed in as those people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.requests.factories import FLOWPORT, request_catalog, store
from tests.scaffolder.tasks.support import greeting_template
from tests.web.csrf_support import dev_sign_in

BASE = "/api/scaffolder/v2"
ADMIN = "user:default/sami.approver"  # team-sre is the admin group here


def greeting_capability() -> dict:
    return {"apiVersion": FLOWPORT, "kind": "Capability", "metadata": {"name": "greeting-repo"},
            "spec": {"product": "platformproduct:default/delivery-platform", "owner": "group:team-dx",
                     "lifecycle": "ga", "fulfillment": {"mode": "automated", "template": "template:default/greeter"}}}


@pytest.fixture
def scaffolder_app(settings, session):
    store(session, [*request_catalog(), greeting_template(), greeting_capability()])
    return create_app(settings.model_copy(update={"env": "development", "admins": ["group:default/team-sre"]}))


@pytest.fixture
def client_as(scaffolder_app) -> Iterator[Callable[[str | None], TestClient]]:
    """`client_as(user_ref)`: a client signed in as that catalog user (None: anonymous)."""
    with ExitStack() as stack:
        def signed_in(user_ref: str | None) -> TestClient:
            client = stack.enter_context(TestClient(scaffolder_app))
            if user_ref:
                dev_sign_in(client, user_ref)
            return client
        yield signed_in


def start_task(client: TestClient, values: dict | None = None, **body: object) -> str:
    response = client.post(f"{BASE}/tasks", json={"templateRef": "template:default/greeter",
                                                  "values": values or {"name": "returns"}, **body})
    assert response.status_code == 201, response.text
    return response.json()["id"]
