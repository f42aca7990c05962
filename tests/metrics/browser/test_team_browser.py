"""In Chromium: the team page, a component's metrics tab reached from it, the window switched with HTMX
(the URL changes, the page does not reload), a chart's CSV downloaded and checked, and axe-core."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.app import create_app
from portal.metrics.page_window import page_window
from tests.flow.factories import deployment, save
from tests.live_server import serve_in_thread
from tests.metrics.flow_factories import make_request
from tests.metrics.pages.test_team_page import component
from tests.requests.factories import request_catalog, store
from tests.web.test_browser import serious_violations
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(settings, session) -> Iterator[str]:  # noqa: ANN001
    """team-apps owns shop, deployed to production 2 and 10 days ago; rui (team-apps) has an open order."""
    store(session, [*request_catalog(), component("shop", "group:default/team-apps", "acme/shop")])
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    save(session, [deployment("acme/shop", 1, "production", now - timedelta(days=2)),
                   deployment("acme/shop", 2, "production", now - timedelta(days=10)),
                   deployment("acme/shop", 3, "staging", now - timedelta(days=3),
                              url="javascript:alert(1)")])
    make_request(session, [(now - timedelta(days=1), "submitted")], title="Open order of rui")
    session.commit()
    with serve_in_thread(create_app(settings), start_timeout=15) as base_url:
        yield base_url


def test_team_page_component_tab_htmx_window_and_csv(browser, portal: str, tmp_path: Path) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=portal, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    csp_problems: list[str] = []
    page.on("console", lambda message: csp_problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto("/teams/team-apps")
        expect(page.get_by_role("heading", level=1)).to_have_text("Team team-apps")
        expect(page.get_by_text("Open order of rui")).to_be_visible()
        assert serious_violations(page) == []

        page.get_by_role("link", name="shop").click()
        expect(page).to_have_url(f"{portal}/catalog/default/component/shop/metrics")
        expect(page.get_by_role("heading", level=1)).to_have_text("Metrics of shop")
        # 30 days: both production deployments.
        expect(page.locator("#card-deploymentFrequency")).to_contain_text("2 samples")
        assert page.locator("a[href^='javascript:']").count() == 0
        assert serious_violations(page) == []

        # Switch to 7 days: HTMX swaps the body and pushes the URL; the document is the same one.
        page.evaluate("window.__notReloaded = true")
        page.get_by_role("link", name="7 days").click()
        expect(page).to_have_url(f"{portal}/catalog/default/component/shop/metrics?window=7d")
        expect(page.locator("#card-deploymentFrequency")).to_contain_text("1 sample")
        assert page.evaluate("window.__notReloaded") is True
        expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")

        with page.expect_download() as download_info:
            page.locator("#figure-deployments-per-week").get_by_role("link", name="CSV").click()
        download = download_info.value
        assert download.suggested_filename == "deployments-per-week.csv"
        saved = tmp_path / "deployments.csv"
        download.save_as(saved)
        rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
        week = page_window("7d", None, None, None).window.start.date().isoformat()
        assert rows == [["label", "deployments"], [week, "1.0"]]
        assert csp_problems == []
    finally:
        context.close()


def test_the_window_picker_works_without_javascript(browser, portal: str) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=portal, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/catalog/default/component/shop/metrics")
        page.get_by_role("link", name="90 days").click()
        expect(page).to_have_url(f"{portal}/catalog/default/component/shop/metrics?window=90d")
        expect(page.get_by_role("heading", level=1)).to_have_text("Metrics of shop")  # the whole page
    finally:
        context.close()


@pytest.fixture
def demo_portal(settings, session) -> Iterator[str]:  # noqa: ANN001
    """The demo organisation (catalog/) with 90 seeded days ending today, served as `make run` does
    (development sign-in page), so the team has real components, deployments and requests."""
    from portal.catalog.ingest.defaults import ensure_default_locations
    from portal.demo.seed import demo_year, seed_demo
    from tests.conftest import REPO_ROOT

    demo = settings.model_copy(update={"env": "development", "catalog_paths": [str(REPO_ROOT / "catalog")],
                                       "catalog_refresh_interval": 0})
    ensure_default_locations(session, demo, None)
    session.commit()
    seed_demo(session, demo_year(7, 90, datetime.now(UTC)))
    session.commit()
    with serve_in_thread(create_app(demo), start_timeout=30) as base_url:
        yield base_url


def test_a_signed_in_member_reads_their_team_on_demo_data(browser, demo_portal: str) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=demo_portal, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/auth/sign-in")
        page.get_by_role("button", name="Sign in as Emma Lindqvist").click()
        expect(page.locator(".whoami")).to_have_text("Signed in as Emma Lindqvist")
        page.goto("/catalog/default/group/team-shipments")
        page.get_by_role("link", name="Team metrics").click()
        expect(page).to_have_url(f"{demo_portal}/teams/team-shipments")
        expect(page.locator("#card-deploymentFrequency")).to_contain_text("samples")
        assert "0 samples" not in page.locator("#card-deploymentFrequency").inner_text()
        page.evaluate("window.__notReloaded = true")
        page.get_by_role("link", name="Compare with the previous window").click()
        expect(page).to_have_url(f"{demo_portal}/teams/team-shipments?window=30d&compare=previous")
        expect(page.locator("#card-deploymentFrequency")).to_contain_text("previous window")
        assert page.evaluate("window.__notReloaded") is True
        assert serious_violations(page) == []
    finally:
        context.close()
