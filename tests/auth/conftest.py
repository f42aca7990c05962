"""Sign-in tests drive Chromium in a Playwright of their own that stops after the module: a
session-wide one keeps an event loop running, and later tests that call asyncio.run() would fail."""

from __future__ import annotations

from tests.browser_support import browser  # noqa: F401 - the module's Chromium (tests/browser_support.py)
