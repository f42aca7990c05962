"""In Chromium: the portfolio, a product's metrics, switching the window with HTMX (no full reload),
downloading a chart's CSV, and axe-core on both pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.app import create_app
from tests.live_server import serve_in_thread
from tests.metrics.value_scenario import seed_catalog, seed_orders
from tests.web.test_browser import serious_violations
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser

MAY_AND_JUNE = "window=custom&from=2024-05-01&until=2024-07-01"


@pytest.fixture
def portal(settings, session) -> Iterator[str]:  # noqa: ANN001
    seed_catalog(session)
    seed_orders(session)
    session.commit()
    app = create_app(settings.model_copy(update={"env": "development"}))
    with serve_in_thread(app, start_timeout=15) as base_url:
        yield base_url


def signed_in(browser, base_url: str):  # noqa: ANN001, ANN201
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/auth/sign-in")
    page.get_by_role("button", name="Sign in as Olga Owner").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as Olga Owner")
    return context, page


def test_portfolio_to_product_metrics_switch_window_and_download(browser, portal: str, tmp_path: Path) -> None:  # noqa: ANN001
    context, page = signed_in(browser, portal)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.get_by_role("link", name="Portfolio").click()
        expect(page.get_by_role("heading", name="Portfolio", level=1)).to_be_visible()
        page.goto(f"/portfolio?{MAY_AND_JUNE}")
        row = page.locator("table.portfolio-table tbody tr", has_text="Delivery Platform")
        expect(row).to_contain_text("50%")  # SLA: 2 of 4 orders within target
        assert serious_violations(page) == []
        # The portfolio switches its window through HTMX too, and its links keep the new window.
        page.evaluate("window.__portfolioMarker = true")
        page.get_by_role("link", name="Compare with the previous window").click()
        expect(page).to_have_url(re.compile(r"/portfolio\?window=custom.*compare=previous"))
        expect(page.get_by_role("link", name="Stop comparing")).to_be_visible()
        assert page.evaluate("window.__portfolioMarker === true")

        row.get_by_role("link", name="Metrics of Delivery Platform").click()
        expect(page).to_have_url(re.compile(r"/products/delivery-platform/metrics\?window=custom"))
        expect(page.get_by_role("heading", name="Value realized")).to_be_visible()
        expect(page.locator(".headline-figures")).to_contain_text(["2 of 4 orders within target"])
        # The impact section is loaded after the page by HTMX.
        expect(page.locator("#impact table.impact-table").first).to_contain_text("component:default/web")

        expect(page).to_have_url(re.compile(r"compare=previous"))  # the portfolio's window came along
        # Switch with HTMX: the URL changes, the page is not reloaded (the marker set by script survives).
        page.evaluate("window.__stillTheSamePage = true")
        page.get_by_role("link", name="Stop comparing").click()
        expect(page.get_by_role("link", name="Compare with the previous window")).to_be_visible()
        expect(page).not_to_have_url(re.compile(r"compare=previous"))
        assert page.evaluate("window.__stillTheSamePage === true")
        page.get_by_role("link", name="Compare with the previous window").click()
        expect(page).to_have_url(re.compile(r"compare=previous"))
        expect(page.get_by_role("link", name="Stop comparing")).to_be_visible()
        expect(page.locator(".trend").first).to_be_attached()
        assert page.evaluate("window.__stillTheSamePage === true")

        with page.expect_download() as download_info:
            page.locator("#figure-adoption").get_by_role("link", name="CSV").click()
        download = download_info.value
        assert download.suggested_filename == "adoption.csv"
        saved = tmp_path / "adoption.csv"
        download.save_as(saved)
        rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
        assert rows[0] == ["period", "components", "teams"]
        assert rows[1][0] == "2024-05-01" and float(rows[-1][1]) == 3  # the window in the URL was kept

        page.get_by_role("link", name="7 days").click()
        expect(page).to_have_url(re.compile(r"window=7d"))
        assert page.evaluate("window.__stillTheSamePage === true")
        for summary in page.locator("summary").all():
            summary.click()  # the open data tables are checked too
        assert serious_violations(page) == []
        assert problems == []
    finally:
        context.close()


def test_without_javascript_the_picker_is_plain_links(browser, portal: str) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=portal, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/auth/sign-in")
        page.get_by_role("button", name="Sign in as Olga Owner").click()
        page.goto(f"/products/delivery-platform/metrics?{MAY_AND_JUNE}")
        page.get_by_role("link", name="90 days").click()
        expect(page).to_have_url(re.compile(r"window=90d"))
        expect(page.get_by_role("heading", name="Metrics of Delivery Platform")).to_be_visible()
        page.locator("input[name=from]").fill("2024-05-01")
        page.locator("input[name=until]").fill("2024-07-01")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"window=custom&from=2024-05-01&until=2024-07-01"))
        expect(page.locator(".headline-figures").last).to_contain_text("2 of 4 orders within target")
    finally:
        context.close()
