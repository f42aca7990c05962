"""Ordering in a real browser (Debian Chromium through Playwright): errors inline, the wizard, keyboard only,
no JavaScript, and axe-core on the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from portal.app import create_app
from portal.requests.forms.pickers import PICKER_LIMIT
from tests.live_server import serve_in_thread
from tests.requests.factories import group, store
from tests.requests.order_catalog import seed_order_catalog
from tests.web.conftest import AXE_SCRIPT
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser

SHOWCASE = "/products/delivery-platform/capabilities/ordering-showcase"
CI = "/products/delivery-platform/capabilities/ci-pipeline"
WIZARD = "/products/delivery-platform/capabilities/new-service/order"
REQUEST_URL = re.compile(r"/requests/REQ-\d+$")


@pytest.fixture
def portal(settings, session) -> Iterator[str]:
    seed_order_catalog(session)
    app = create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "everyone"}))
    with serve_in_thread(app, start_timeout=15) as base_url:
        yield base_url


def new_page(browser, portal: str, javascript: bool = True):  # noqa: ANN001, ANN201
    context = browser.new_context(base_url=portal, viewport={"width": 1280, "height": 900},
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/auth/sign-in")
    page.get_by_role("button", name="Sign in as Rui Requester").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as Rui Requester")
    return page


def order_of(page) -> dict:  # noqa: ANN001
    """The order behind the request URL the browser landed on, read through the JSON API."""
    request_id = page.url.rsplit("/", 1)[-1]
    response = page.request.get(f"/api/v1/requests/{request_id}")
    assert response.ok, response.text()
    return response.json()


def serious_violations(page) -> list[dict]:  # noqa: ANN001
    page.route("**/__axe__.js", lambda route: route.fulfill(path=str(AXE_SCRIPT), content_type="text/javascript"))
    page.add_script_tag(url="/__axe__.js")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_an_error_is_shown_inline_then_the_fixed_order_lands_on_its_request(browser, portal):
    page = new_page(browser, portal)
    page.goto(SHOWCASE)
    form = page.locator("form.order-form")
    expect(form.get_by_label("Repository")).to_be_focused()  # ui:autofocus
    form.get_by_label("Repository").fill("elsewhere/shipments")
    form.get_by_label("Language").select_option(label="Go")
    form.get_by_label("Contact e-mail").fill("ops@northwind.example")
    form.get_by_label("Deploy token").fill("hunter2")
    form.get_by_role("group", name="Environments").get_by_label("production").check()
    form.get_by_role("button", name="Submit request").click()

    expect(page).to_have_url(re.compile(r"/ordering-showcase/order$"))
    repository = page.get_by_label("Repository")
    expect(repository).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-repository-error")).to_contain_text("does not match")
    expect(page.locator("#error-summary")).to_contain_text("Repository:")
    expect(repository).to_have_value("elsewhere/shipments")  # kept
    expect(page.get_by_label("Deploy token")).to_have_value("")  # never echoed
    expect(page.get_by_role("group", name="Environments").get_by_label("production")).to_be_checked()
    page.locator("#error-summary a", has_text="Repository").click()
    expect(repository).to_be_focused()

    repository.fill("northwind/shipments")
    page.get_by_label("What value do you expect?").fill("Releases without hand-written workflows")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)
    order = order_of(page)
    assert order["capability"] == "capability:default/ordering-showcase"
    assert order["parameters"]["repository"] == "northwind/shipments"
    assert order["parameters"]["token"] == "hunter2" and order["parameters"]["environments"] == ["production"]
    assert order["valueHypothesis"] == "Releases without hand-written workflows"


def test_a_template_wizard_goes_next_back_and_through_the_review(browser, portal):
    page = new_page(browser, portal)
    page.goto(WIZARD)
    expect(page.locator('[aria-current="step"]')).to_have_text("Describe the service")
    page.get_by_label("Name").fill("returns")
    page.get_by_label("Owner").select_option("group:default/team-dx")
    page.get_by_label("System").select_option("system:default/shipping")
    page.get_by_role("button", name="Next").click()
    expect(page.locator('[aria-current="step"]')).to_have_text("Runtime")
    expect(page.get_by_label("HTTP port")).to_have_value("8080")
    page.get_by_label("HTTP port").fill("80")
    page.get_by_label("Registry password").fill("pa55")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#field-port-error")).to_contain_text("less than the minimum of 1024")
    page.get_by_label("HTTP port").fill("9000")
    page.get_by_role("button", name="Next").click()
    expect(page.locator('[aria-current="step"]')).to_have_text("Choose a repository")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.get_by_label("HTTP port")).to_have_value("9000")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.get_by_label("Name")).to_have_value("returns")
    expect(page.get_by_label("Owner")).to_have_value("group:default/team-dx")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Repository name").fill("returns")
    page.get_by_role("button", name="Next").click()

    expect(page.locator('[aria-current="step"]')).to_have_text("Review and submit")
    runtime = page.get_by_role("table", name="Runtime")
    expect(runtime).to_contain_text("9000")
    expect(runtime).to_contain_text("••••••••")
    expect(runtime).not_to_contain_text("pa55")
    expect(page.get_by_role("table", name="Choose a repository")).to_contain_text("github.com?owner=northwind&repo=returns")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)
    assert order_of(page)["parameters"] == {"name": "returns", "owner": "group:default/team-dx",
                                            "system": "system:default/shipping", "port": 9000, "secret": "pa55",
                                            "repoUrl": "github.com?owner=northwind&repo=returns"}


def test_the_form_can_be_filled_and_sent_with_the_keyboard_alone(browser, portal):
    page = new_page(browser, portal)
    page.goto(CI)
    unlabelled = []

    def tab_to(element_id: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const e = document.activeElement;
                return {id: e.id, labelled: !!(e.labels && e.labels.length) || !!e.getAttribute('aria-label'),
                        form: !!e.closest('form.order-form'), tag: e.tagName}; }""")
            if focused["form"] and focused["tag"] in ("INPUT", "SELECT", "TEXTAREA") and not focused["labelled"]:
                unlabelled.append(focused["id"])
            if focused["id"] == element_id:
                return
        pytest.fail(f"Tab never reached #{element_id}")

    tab_to("field-repository")
    page.keyboard.type("northwind/keyboard")
    tab_to("field-language")
    page.keyboard.press("ArrowDown")  # Choose… -> python
    tab_to("field-publishImage")
    page.keyboard.press("Space")  # default on -> off
    tab_to("field-coverageThreshold")
    page.keyboard.type("75")
    tab_to("field-environments-2")
    page.keyboard.press("Space")
    tab_to("order-hypothesis-metric")
    page.keyboard.type("lead time")
    page.keyboard.press("Enter")  # implicit submission: the form's submit button
    expect(page).to_have_url(re.compile(r"/ci-pipeline/order$"))
    expect(page.locator("#order-hypothesis-text-error")).to_be_visible()  # a metric needs the sentence too
    expect(page.locator("#error-summary")).to_be_focused()
    tab_to("order-hypothesis-text")
    page.keyboard.type("Faster pipelines")
    tab_to("order-hypothesis-metric")
    page.keyboard.press("Enter")
    expect(page).to_have_url(REQUEST_URL)
    assert unlabelled == []
    assert order_of(page)["parameters"] == {"repository": "northwind/keyboard", "language": "python",
                                            "publishImage": False, "coverageThreshold": 75,
                                            "environments": ["production"]}


def test_ordering_works_without_javascript(browser, portal):
    page = new_page(browser, portal, javascript=False)
    page.goto(CI)
    page.get_by_label("repository").fill("northwind/no-js")
    page.get_by_label("language").select_option("java")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)
    assert order_of(page)["parameters"]["repository"] == "northwind/no-js"


@pytest.mark.parametrize("path", [SHOWCASE, WIZARD, "/products/delivery-platform/capabilities/legacy-ci",
                                  "/products/delivery-platform/capabilities/broken-inputs"])
def test_no_serious_accessibility_violations_on_order_forms(browser, portal, path):
    page = new_page(browser, portal)
    page.goto(path)
    assert serious_violations(page) == []


def test_no_serious_accessibility_violations_with_errors_shown(browser, portal):
    page = new_page(browser, portal)
    page.goto(SHOWCASE)
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert serious_violations(page) == []


def test_a_picker_over_a_large_catalog_searches_as_people_type(browser, portal, session):
    store(session, [group(f"squad-{number:03d}", []) for number in range(PICKER_LIMIT + 20)])
    page = new_page(browser, portal)
    page.goto(SHOWCASE)
    team = page.get_by_label("Owning team")
    options = page.locator("#field-team-options option")
    expect(options).to_have_count(PICKER_LIMIT)
    with page.expect_response(lambda response: "/order/options" in response.url and "squad-11" in response.url):
        team.press_sequentially("squad-11", delay=20)
    expect(options).to_have_count(10)
    expect(options.first).to_have_attribute("value", "group:default/squad-110")


def test_a_double_click_raises_one_order(browser, portal):
    page = new_page(browser, portal)
    page.goto(CI)
    page.get_by_label("repository").fill("northwind/double")
    page.get_by_label("language").select_option("go")
    page.get_by_role("button", name="Submit request").dblclick()
    expect(page).to_have_url(REQUEST_URL)
    listed = page.request.get("/api/v1/requests?capability=ci-pipeline").json()
    assert listed["totalItems"] == 1
    # Back to the form (kept in the browser's cache): it can be sent again.
    page.go_back()
    expect(page.get_by_label("repository")).to_be_visible()
    page.get_by_label("repository").fill("northwind/again")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)
    assert page.request.get("/api/v1/requests?capability=ci-pipeline").json()["totalItems"] == 2
