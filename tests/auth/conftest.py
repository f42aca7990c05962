"""Sign-in tests drive Chromium in a Playwright of their own that stops after the module: a
session-wide one keeps an event loop running, and later tests that call asyncio.run() would fail."""

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
