"""In Chromium: a page with a chart, its data table opened from the toggle, and the CSV downloaded."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.app import create_app
from tests.live_server import serve_in_thread
from tests.metrics.charts.chart_page import add_chart_page
from tests.web.test_browser import serious_violations
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def chart_server(settings) -> Iterator[str]:  # noqa: ANN001
    """The real app (its CSP and request guards included) with the test-only chart page added."""
    app = create_app(settings)
    add_chart_page(app)
    with serve_in_thread(app, start_timeout=15) as base_url:
        yield base_url


def test_chart_table_toggle_and_csv_download(browser, chart_server: str, tmp_path: Path) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=chart_server, viewport={"width": 320, "height": 800},
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto("/_test/chart?from=2026-01-01")
        chart = page.get_by_role("img", name="Lead time for changes")
        assert chart.is_visible()
        # Readable on a 320 px phone: the SVG shrinks to the page width instead of overflowing.
        assert chart.bounding_box()["width"] <= 320
        table = page.locator("table.chart-table")
        assert not table.is_visible()
        page.get_by_text("Show data").click()
        assert table.is_visible()
        assert table.locator("tbody tr").nth(1).inner_text().split("\t") == ["2026-W02", "2 hours", "—"]
        with page.expect_download() as download_info:
            page.get_by_role("link", name="CSV").click()
        download = download_info.value
        assert download.suggested_filename == "lead-time.csv"
        saved = tmp_path / "lead-time.csv"
        download.save_as(saved)
        rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
        assert rows[0] == ["period", "'=HYPERLINK(\"http://evil\")", "previous window"]
        assert rows[2] == ["2026-W02", "7200.0", ""]
        assert problems == []  # nothing on the page needs an inline script or style the CSP would block
    finally:
        context.close()


def test_every_chart_kind_passes_axe_and_json_downloads(browser, chart_server: str, tmp_path: Path) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=chart_server, viewport={"width": 1024, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/_test/charts")
        assert page.get_by_role("img").count() == 9  # seven charts, the sparkline and the badge
        for summary in page.locator("summary").all():
            summary.click()  # the open tables are checked too
        assert serious_violations(page) == []
        with page.expect_download() as download_info:
            page.locator("#figure-lead-time").get_by_role("link", name="JSON").click()
        saved = tmp_path / "lead-time.json"
        download_info.value.save_as(saved)
        document = json.loads(saved.read_text(encoding="utf-8"))
        assert document["columns"] == ["period", '=HYPERLINK("http://evil")', "previous window"]
        assert document["rows"][0] == ["2026-W01", 3600.0, 7200.0]
    finally:
        context.close()
