"""Web fixtures: the seeded test catalog, a live uvicorn server and a Chromium page driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.app import create_app
from tests.live_server import serve_in_thread
from tests.conftest import REPO_ROOT
from tests.web.catalog_data import seed_catalog

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
HTMX_SOURCE = REPO_ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
HTMX_VENDORED = REPO_ROOT / "portal" / "web" / "static" / "vendor" / "htmx.min.js"


@pytest.fixture
def seeded(session) -> None:
    """The test catalog stored in the test database."""
    seed_catalog(session)


@pytest.fixture
def dev_settings(settings):
    """Test settings with development sign-in switched on; Alice (Runtime team, under Platform
    Engineering) is an admin through the parent group, Bruno and Chiara are not."""
    return settings.model_copy(update={"env": "development", "admins": ["group:default/platform-engineering"]})


def _require_browser_assets() -> None:
    """Skip without Chromium, unless CI demands browsers (FLOWPORT_REQUIRE_BROWSER=1): then fail loudly."""
    missing = [str(path) for path in (CHROMIUM, AXE_SCRIPT) if not path.exists()]
    if not HTMX_VENDORED.exists() and not HTMX_SOURCE.exists():
        missing.append(str(HTMX_VENDORED))
    if not missing:
        return
    message = f"browser tests need {', '.join(missing)} (run `make install`)"
    if os.environ.get("FLOWPORT_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def live_server(dev_settings, seeded) -> Iterator[str]:
    """The portal served by uvicorn in a background thread on a free port; yields its base URL."""
    _require_browser_assets()
    if not HTMX_VENDORED.exists():
        # `make install` normally copies it; a bare checkout gets the same file from node_modules.
        HTMX_VENDORED.parent.mkdir(parents=True, exist_ok=True)
        partial = HTMX_VENDORED.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(HTMX_SOURCE, partial)
        os.replace(partial, HTMX_VENDORED)  # atomic, so parallel test workers never see half a file
    with serve_in_thread(create_app(dev_settings), start_timeout=15) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Debian Chromium per test session."""
    _require_browser_assets()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh browser context (own cookies) per test; the base URL is the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
