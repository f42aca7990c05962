"""The pages in a real browser (Debian Chromium through Playwright): navigation, HTMX and accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import AXE_SCRIPT

pytestmark = pytest.mark.browser

RESULT_LINKS = "#catalog-results tbody th a"


def result_names(page) -> list[str]:
    return page.locator(RESULT_LINKS).all_inner_texts()


def test_home_to_product_to_capability(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your platform, as a product")
    page.get_by_role("link", name="Runtime Platform").click()
    expect(page).to_have_url(re.compile(r"/products/runtime-platform$"))
    expect(page.get_by_role("heading", name="Capabilities (2)")).to_be_visible()
    page.get_by_role("link", name="PostgreSQL database").click()
    expect(page).to_have_url(re.compile(r"/products/runtime-platform/capabilities/postgres-database$"))
    expect(page.locator(".facts")).to_contain_text("2 days")


def test_catalog_tab_switch(page):
    page.goto("/catalog")
    page.get_by_role("navigation", name="Entity kinds").get_by_role("link", name=re.compile(r"^API ")).click()
    expect(page).to_have_url(re.compile(r"/catalog\?kind=api$"))
    expect(page.locator('nav.tabs a[aria-current="page"]')).to_contain_text("API")
    assert result_names(page) == ["Shipments API"]


def test_facet_filter_narrows_results_and_url_carries_it(page):
    page.goto("/catalog?kind=component")
    expect(page.locator(".result-count")).to_contain_text("11 entities")
    page.get_by_role("group", name="Lifecycle").get_by_label(re.compile("experimental")).check()
    expect(page.locator(".result-count")).to_contain_text("4 entities")
    expect(page).to_have_url(re.compile(r"lifecycle=experimental"))
    assert sorted(result_names(page)) == ["Carrier gateway", "Hub dashboard", "Invoice service", "Parcel scanner"]


def test_live_search_updates_results_and_url(page):
    page.goto("/catalog")
    with page.expect_response(lambda r: "/catalog?" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Search the catalog").press_sequentially("printer", delay=20)
    expect(page.locator(".result-count")).to_contain_text("1 entity")
    expect(page).to_have_url(re.compile(r"q=printer"))
    assert result_names(page) == ["Label printer"]
    # The pushed URL is a real page: reloading (or sharing) it shows the same results.
    page.reload()
    assert result_names(page) == ["Label printer"]
    expect(page.get_by_label("Search the catalog")).to_have_value("printer")


def test_paging_next_and_previous(page):
    page.goto("/catalog?kind=component&limit=5")
    first = result_names(page)
    assert len(first) == 5
    page.get_by_role("link", name="Next page →").click()
    expect(page.locator(RESULT_LINKS).first).not_to_have_text(first[0])
    expect(page).to_have_url(re.compile(r"cursor="))
    second = result_names(page)
    assert len(second) == 5 and not set(first) & set(second)
    page.get_by_role("link", name="← Previous page").click()
    expect(page.locator(RESULT_LINKS).first).to_have_text(first[0])


def test_entity_page_shows_owner_relations_and_graph(page):
    page.goto("/catalog?q=shipments+service")
    page.locator(RESULT_LINKS, has_text="Shipments service").click()
    expect(page).to_have_url(re.compile(r"/catalog/default/component/shipments-service$"))
    expect(page.locator(".facts")).to_contain_text("team-shipments")
    expect(page.locator("dl.relations")).to_contain_text("providesApi")
    graph = page.locator("svg.relations-graph")
    expect(graph).to_be_visible()
    graph.get_by_role("link", name="API Shipments API").click()
    expect(page).to_have_url(re.compile(r"/catalog/default/api/shipments-api$"))


def test_entity_page_loads_its_delivery_cards_after_the_page(page):
    page.goto("/catalog/default/component/shipments-service")
    cards = page.locator(".flow-card")
    expect(cards).to_have_count(4)
    # Each placeholder is swapped for its card by HTMX; none is left "Loading…".
    expect(page.locator(".flow-cards")).not_to_contain_text("Loading…")
    expect(page.locator(".flow-cards")).to_contain_text(
        re.compile("No deployments recorded yet|No delivery tool is linked"))


def test_dev_sign_in_shows_the_users_name(page):
    page.goto("/")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign in as Chiara Rossi").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as Chiara Rossi")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def serious_violations(page) -> list[dict]:
    # Served as if from the portal: its Content-Security-Policy allows no inline script (add_script_tag(path=)).
    page.route("**/__axe__.js", lambda route: route.fulfill(path=str(AXE_SCRIPT), content_type="text/javascript"))
    page.add_script_tag(url="/__axe__.js")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", [
    "/", "/catalog", "/catalog?kind=component&lifecycle=experimental", "/catalog/default/component/shipments-service",
    "/catalog/default/component/customs-checker", "/products/runtime-platform",
    "/products/runtime-platform/capabilities/postgres-database", "/auth/sign-in",
    "/admin/webhooks", "/admin/plugins", "/admin/connections",
])
def test_no_serious_accessibility_violations(page, path):
    page.goto(path)
    assert serious_violations(page) == []


def test_search_and_filters_work_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/catalog")
        page.get_by_label("Search the catalog").fill("gateway")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"/catalog\?q=gateway$"))
        assert result_names(page) == ["Carrier gateway"]
        page.goto("/catalog?kind=component")
        page.get_by_role("group", name="Tags").get_by_label(re.compile("^go")).check()
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"tag=go"))
        expect(page.locator(".result-count")).to_contain_text("5 entities")
    finally:
        context.close()
