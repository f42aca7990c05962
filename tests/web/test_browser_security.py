"""Attacks in a real browser (Chromium): javascript: links from data, and a page of another origin
posting a form into a signed-in session."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from portal.catalog.store import PreparedEntity, write_entities
from tests.flow.factories import GITHUB, T0, change, save
from tests.live_server import serve_in_thread

pytestmark = pytest.mark.browser

REPO = "octo/evil"
EVIL_URLS = ["javascript:window.__pwned=1", "JaVaScRiPt:window.__pwned=1", " \tjava\tscript:window.__pwned=1",
             "data:text/html,<script>window.__pwned=1</script>"]


def _store_hostile_entity(session) -> None:
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
              "metadata": {"name": "hostile", "annotations": {GITHUB: REPO},
                           "links": [{"url": url, "title": f"Evil {n}"} for n, url in enumerate(EVIL_URLS)]
                           + [{"url": "https://docs.example.com/hostile", "title": "Real docs"}]},
              "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-shipments"}}
    write_entities(session, [PreparedEntity(entity=entity, location_key="file:/tmp/hostile.yaml",
                                            origin_location_key="file:/tmp/hostile.yaml")])
    session.commit()
    save(session, [change(REPO, 1, T0, url="javascript:window.__pwned=1", title="Evil change")])


def _hrefs(page) -> list[str]:
    # The URL each link resolves to, as the browser would follow it (SVG links of the graph included).
    return page.eval_on_selector_all("a[href]", """links => links.map(link =>
        new URL(typeof link.href === "string" ? link.href : link.href.baseVal, document.baseURI).href)""")


def test_javascript_urls_in_links_and_flow_records_are_not_clickable(page, session):
    _store_hostile_entity(session)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/catalog/default/component/hostile")
    card = page.locator("#flow-card-recent-changes")
    expect(card).to_contain_text("Evil change")
    links = page.locator("ul.links")
    for n in range(len(EVIL_URLS)):
        expect(links.get_by_text(f"Evil {n}")).to_be_visible()
        expect(links.get_by_role("link", name=f"Evil {n}")).to_have_count(0)
    expect(card.get_by_role("link", name=re.compile("Evil change"))).to_have_count(0)
    assert not [href for href in _hrefs(page) if not href.startswith(("http:", "https:", "mailto:"))]
    real = links.get_by_role("link", name="Real docs")
    expect(real).to_have_attribute("rel", "noopener noreferrer")
    for n in range(len(EVIL_URLS)):
        links.get_by_text(f"Evil {n}").click()
    card.get_by_text("Evil change").click()
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


ATTACK = """<!doctype html><title>Win a prize</title>
<form id="attack" method="post" action="{target}/admin/connections">
  <input name="plugin" value="cdevents"><input name="connection_name" value="stolen">
</form>
<script>document.getElementById("attack").submit()</script>"""


@pytest.fixture
def attacker_site(live_server) -> Iterator[str]:
    """A page on another port of 127.0.0.1 (same site, other origin) that posts a form to the portal."""
    async def attack(request):  # noqa: ANN001, ANN202
        return HTMLResponse(ATTACK.format(target=live_server))

    with serve_in_thread(Starlette(routes=[Route("/", attack)])) as base_url:
        yield base_url


def _sign_in(page) -> None:
    """As Alice, an admin (connections are managed by admins)."""
    page.goto("/auth/sign-in")
    page.get_by_role("button", name="Sign in as Alice Andersen").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as Alice Andersen")


def _connection_names(page, live_server) -> list[str]:
    body = page.request.get(f"{live_server}/api/v1/connections").json()
    return [item["name"] for item in body["items"]]


def test_a_page_of_another_origin_cannot_post_into_a_signed_in_session(page, live_server, attacker_site):
    _sign_in(page)
    with page.expect_response(lambda response: response.url == f"{live_server}/admin/connections") as answer:
        page.goto(attacker_site)
    assert answer.value.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".error-message")).to_contain_text("Cross-origin request refused")
    assert "stolen" not in _connection_names(page, live_server)


def test_the_same_origin_form_saves_a_connection(page, live_server):
    _sign_in(page)
    page.goto("/admin/connections")
    page.get_by_text("CDEvents", exact=True).click()
    form = page.locator("form", has=page.get_by_role("button", name="Save CDEvents connection"))
    form.get_by_label("Connection name").fill("tekton")
    form.get_by_role("button", name="Save CDEvents connection").click()
    expect(page.get_by_role("status")).to_have_text("Saved connection cdevents/tekton.")
    assert "tekton" in _connection_names(page, live_server)


def test_htmx_requests_carry_the_sessions_csrf_token(page):
    with page.expect_request(lambda request: "/cards/deployments" in request.url) as card_request:
        page.goto("/catalog/default/component/shipments-service")
    token = page.locator("body").get_attribute("hx-headers")
    assert card_request.value.headers.get("x-csrf-token")
    assert card_request.value.headers["x-csrf-token"] in token


def test_pages_run_under_the_content_security_policy_without_violations(page):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto("/catalog/default/component/shipments-service")
    expect(page.locator(".flow-cards")).not_to_contain_text("Loading…")  # HTMX ran
    page.goto("/catalog")
    with page.expect_response(lambda r: "/catalog?" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Search the catalog").press_sequentially("printer", delay=20)
    expect(page.locator(".result-count")).to_contain_text("1 entity")
    assert violations == []
