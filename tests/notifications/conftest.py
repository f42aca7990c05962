"""Notification tests use the request catalog and the browser-like clients of the request page tests."""

from tests.requests.conftest import catalog  # noqa: F401 - fixture
from tests.requests.page_clients import involved_app, person  # noqa: F401 - fixtures
