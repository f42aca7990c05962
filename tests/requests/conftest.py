"""Request test fixtures: the request catalog, and clients signed in as its people (development sign-in)."""

from __future__ import annotations

from tests.web.csrf_support import dev_sign_in

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.requests.factories import seed_request_catalog


@pytest.fixture
def catalog(session) -> None:
    seed_request_catalog(session)


@pytest.fixture
def dev_app(settings, catalog):
    """An app in development mode, where people sign in as catalog users (and anonymous changes pass)."""
    # Every signed-in caller sees every request here, so listing tests see all; who sees what is
    # tested on its own (test_visibility.py).
    return create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "everyone"}))


@pytest.fixture
def client_as(dev_app) -> Iterator[Callable[[str | None], TestClient]]:
    """`client_as(user_ref)`: a client signed in as that catalog user (None: anonymous)."""
    with ExitStack() as stack:
        def signed_in(user_ref: str | None) -> TestClient:
            client = stack.enter_context(TestClient(dev_app))
            if user_ref:
                dev_sign_in(client, user_ref)
            return client
        yield signed_in


@pytest.fixture
def api(client, catalog) -> TestClient:
    """An anonymous client of a test app, where anonymous changes are allowed."""
    return client
