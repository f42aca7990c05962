"""The bundled demo organisation (catalog/) loaded into the test database, as `flowport demo` loads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.catalog.ingest.defaults import ensure_default_locations
from portal.demo.seed import demo_year
from tests.conftest import REPO_ROOT

# A fixed end, so every run of the tests sees the same demo year.
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def demo_catalog(session, settings) -> None:  # noqa: ANN001
    reports = ensure_default_locations(
        session, settings.model_copy(update={"catalog_paths": [str(REPO_ROOT / "catalog")]}), None)
    assert all(not report.errors for report in reports)
    session.commit()


@pytest.fixture
def short_year():  # noqa: ANN201
    """Ninety days: enough for every kind of record, quick to write on both databases."""
    return demo_year(7, 90, UNTIL)
