"""The Chromium a browser test module uses: import `browser` into the module to get it.

A Playwright of each module's own, not the session-wide one of tests/web: a session-wide Playwright keeps
an event loop running that later `asyncio.run()` calls in other modules would trip over."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, _require_browser_assets


@pytest.fixture(scope="module")
def browser() -> Iterator:
    _require_browser_assets()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
