"""The request pages in Debian's Chromium: approve, confirm value, submit and vote for an idea, follow the
live task log, and watch the notifications bell, each as the person who would do it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from portal.app import create_app
from portal.requests import service
from portal.requests.models import Request
from tests.live_server import serve_in_thread
from tests.requests.browser.fake_task_events import FakeTaskApi, mount, task_events
from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER, seed_request_catalog
from tests.web.test_browser import serious_violations
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser

NAMES = {REQUESTER: "Rui Requester", APPROVER: "Sami Approver", OWNER: "Olga Owner", OUTSIDER: "Otto Outsider"}
TASK = "0c6d2b9e-live-log"


@pytest.fixture
def fake_tasks() -> FakeTaskApi:
    return FakeTaskApi()


@pytest.fixture
def portal(settings, session, fake_tasks) -> Iterator[str]:
    """The portal over HTTP in development mode (sign in as catalog users), with the test-only task API."""
    seed_request_catalog(session)
    app = create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "involved"}))
    mount(app, fake_tasks)
    with serve_in_thread(app, start_timeout=15) as base_url:
        yield base_url


@pytest.fixture
def as_person(browser, portal) -> Iterator:
    """`as_person(user_ref)`: a browser tab of its own (own cookies), signed in through the sign-in page."""
    contexts = []

    def open_tab(user_ref: str):  # noqa: ANN202
        context = browser.new_context(base_url=portal, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        tab.goto("/auth/sign-in")
        tab.get_by_role("button", name=f"Sign in as {NAMES[user_ref]}").click()
        expect(tab.locator(".whoami")).to_have_text(f"Signed in as {NAMES[user_ref]}")
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def order(session, capability: str = "progressive-delivery", **fields) -> Request:
    row = service.create_order(session, capability=capability, requester=REQUESTER, **fields)
    session.commit()
    return row


def test_an_approver_approves_and_the_timeline_shows_it(as_person, session):
    row = order(session)
    tab = as_person(APPROVER)
    tab.goto(f"/requests/{row.public_id}")
    expect(tab.locator("#request-stage")).to_have_text("awaiting-approval")
    expect(tab.locator(".waiting-on")).to_contain_text("The approvers: team-sre")
    tab.get_by_role("button", name="Approve").click()
    expect(tab).to_have_url(re.compile(rf"/requests/{row.public_id}$"))
    expect(tab.locator("#request-stage")).to_have_text("fulfilling")
    newest = tab.locator(".timeline-event").first
    expect(newest).to_contain_text("awaiting-approval → fulfilling")
    expect(newest).to_contain_text("sami.approver")
    expect(tab.get_by_role("button", name="Approve")).to_have_count(0)


def test_a_non_approver_has_no_buttons_and_a_forged_post_reads_as_a_page(as_person, session):
    row = order(session)
    tab = as_person(OUTSIDER)
    tab.goto(f"/requests/{row.public_id}")
    expect(tab.locator("#request-stage")).to_have_text("awaiting-approval")
    expect(tab.get_by_role("button", name="Approve")).to_have_count(0)
    # A hand-made form with the page's own CSRF token, as someone poking at the portal would send it.
    tab.evaluate("""id => {
        const form = document.createElement('form');
        form.method = 'post'; form.action = `/requests/${id}/decision`;
        for (const [name, value] of [['decision', 'approve'],
                                     ['csrf_token', document.querySelector('input[name=csrf_token]').value]]) {
            const input = document.createElement('input'); input.name = name; input.value = value; form.append(input);
        }
        document.body.append(form); form.submit();
    }""", row.public_id)
    expect(tab.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(tab.locator(".error-message")).to_contain_text("Only members of group:default/team-sre may decide")


def test_the_requester_confirms_the_value(as_person, session):
    row = order(session, "feature-flags")
    service.transition(session, row, to="delivered", actor=OWNER)
    session.commit()
    tab = as_person(REQUESTER)
    tab.goto(f"/requests/{row.public_id}")
    expect(tab.locator(".waiting-on")).to_contain_text("You, the requester")
    value = tab.locator("section.value")
    value.get_by_label("4").check()
    value.get_by_label("Time saved").fill("PT6H")
    value.get_by_label("Comment").fill("Saved a day of YAML")
    value.get_by_role("button", name="Confirm the value").click()
    expect(tab.locator("#request-stage")).to_have_text("value-confirmed")
    expect(tab.locator(".value-confirmed")).to_contain_text("4/5")
    expect(tab.locator(".value-confirmed")).to_contain_text("6 hours")
    expect(tab.locator(".timeline-event").first).to_contain_text("Value confirmed: 4/5")


def test_submit_an_idea_and_vote_for_it_once(as_person):
    author = as_person(REQUESTER)
    author.goto("/ideas")
    form = author.locator("#submit-idea")
    form.get_by_label("Product").select_option(label="Delivery Platform")
    form.get_by_label("Title").fill("Ephemeral preview environments")
    form.get_by_label("Description").fill("One per pull request")
    form.get_by_role("button", name="Submit the idea").click()
    expect(author).to_have_url(re.compile(r"/requests/REQ-\d+$"))
    expect(author.get_by_role("heading", level=1)).to_have_text("Ephemeral preview environments")

    voter = as_person(OUTSIDER)
    voter.goto("/ideas")
    idea = voter.locator("li.idea", has_text="Ephemeral preview environments")
    expect(idea.locator(".vote-count")).to_have_text("0")
    with voter.expect_response(lambda response: "/vote" in response.url
                               and response.request.headers.get("hx-request") == "true"):
        idea.get_by_role("button", name=re.compile("^Vote")).click()
    expect(idea.locator(".vote-count")).to_have_text("1")
    expect(idea).to_contain_text("You voted")
    expect(idea.get_by_role("button", name=re.compile("^Vote"))).to_have_count(0)
    voter.reload()
    expect(voter.locator("li.idea", has_text="Ephemeral preview environments").locator(".vote-count")).to_have_text("1")


def test_voting_works_without_javascript(browser, portal, session):
    row = service.create_idea(session, product="delivery-platform", requester=REQUESTER, title="Cheaper runners")
    session.commit()
    context = browser.new_context(base_url=portal, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/auth/sign-in")
        tab.get_by_role("button", name="Sign in as Otto Outsider").click()
        tab.goto("/ideas")
        tab.locator("li.idea", has_text="Cheaper runners").get_by_role("button", name=re.compile("^Vote")).click()
        expect(tab).to_have_url(re.compile(r"/ideas$"))
        expect(tab.locator("li.idea", has_text="Cheaper runners").locator(".vote-count")).to_have_text("1")
    finally:
        context.close()
    session.refresh(row)
    assert row.vote_count == 1


def _with_task(session, row: Request) -> None:
    row.task_id = TASK
    session.add(row)
    session.commit()


def test_the_live_log_shows_the_runners_lines_and_completes(as_person, session, fake_tasks):
    fake_tasks.tasks[TASK] = task_events(TASK, [("fetch", "Fetching skeleton"), ("publish", "Pushed to GitHub"),
                                                ("register", "Registered catalog-info.yaml")])
    row = order(session, "new-python-service")
    _with_task(session, row)
    tab = as_person(REQUESTER)
    tab.goto(f"/requests/{row.public_id}")
    log = tab.locator("#task-log")
    expect(log).to_have_attribute("data-state", "completed")
    expect(log.locator(".task-log-lines li")).to_have_text([
        "[fetch] Fetching skeleton", "[publish] Pushed to GitHub", "[register] Registered catalog-info.yaml",
        "Finished: completed Run completed"])
    expect(log.locator(".task-log-status")).to_have_text("The task finished: completed.")


def test_the_live_log_resumes_after_a_dropped_stream_without_repeating_lines(as_person, session, fake_tasks):
    fake_tasks.tasks[TASK] = task_events(TASK, [("fetch", "one"), ("fetch", "two"), ("publish", "three")],
                                         status="failed")
    fake_tasks.cut_first_stream_after[TASK] = 2
    row = order(session, "new-python-service")
    _with_task(session, row)
    tab = as_person(REQUESTER)
    tab.goto(f"/requests/{row.public_id}")
    log = tab.locator("#task-log")
    expect(log).to_have_attribute("data-state", "completed")
    expect(log.locator(".task-log-lines li")).to_have_text(
        ["[fetch] one", "[fetch] two", "[publish] three", "Finished: failed Run failed"])
    assert fake_tasks.stream_requests[-1].endswith(f"/tasks/{TASK}/eventstream?after=2")


def test_log_lines_are_text_not_markup(as_person, session, fake_tasks):
    fake_tasks.tasks[TASK] = task_events(TASK, [("fetch", "<img src=x onerror=\"document.title='owned'\">")])
    row = order(session, "new-python-service")
    _with_task(session, row)
    tab = as_person(REQUESTER)
    tab.goto(f"/requests/{row.public_id}")
    expect(tab.locator("#task-log")).to_have_attribute("data-state", "completed")
    expect(tab.locator("#task-log img")).to_have_count(0)
    assert tab.title() != "owned"


def test_the_bell_counts_up_after_a_transition_and_down_when_read(as_person, session):
    row = order(session)
    requester = as_person(REQUESTER)
    requester.goto("/requests/mine")
    expect(requester.locator(".bell-count")).to_have_text("0")
    approver = as_person(APPROVER)
    expect(approver.locator(".bell-count")).to_have_text("1")  # the order awaits their approval
    approver.goto(f"/requests/{row.public_id}")
    approver.get_by_role("button", name="Approve").click()
    expect(approver.locator("#request-stage")).to_have_text("fulfilling")
    requester.reload()
    expect(requester.locator(".bell-count")).to_have_text("1")
    requester.locator("#notification-bell").click()
    expect(requester).to_have_url(re.compile(r"/notifications$"))
    expect(requester.locator(".notification.unread")).to_contain_text("moved from awaiting-approval to fulfilling")
    requester.get_by_role("button", name="Mark all read").click()
    expect(requester.locator(".bell-count")).to_have_text("0")


@pytest.mark.parametrize("path", ["/requests/mine", "/requests/team", "/queues", "/ideas", "/notifications"])
def test_no_serious_accessibility_violations(as_person, session, path):
    order(session, "feature-flags")
    tab = as_person(OWNER)
    tab.goto(path)
    assert serious_violations(tab) == []


def test_the_request_page_has_no_serious_accessibility_violations(as_person, session):
    row = order(session, "feature-flags")
    tab = as_person(OWNER)
    tab.goto(f"/requests/{row.public_id}")
    assert serious_violations(tab) == []


def test_without_event_source_the_log_is_read_from_the_json_list(as_person, session, fake_tasks):
    fake_tasks.tasks[TASK] = task_events(TASK, [("fetch", "Fetched"), ("publish", "Published")])
    row = order(session, "new-python-service")
    _with_task(session, row)
    tab = as_person(REQUESTER)
    tab.add_init_script("delete window.EventSource;")
    tab.goto(f"/requests/{row.public_id}")
    log = tab.locator("#task-log")
    expect(log.locator(".task-log-lines li")).to_have_text(
        ["[fetch] Fetched", "[publish] Published", "Finished: completed Run completed"])
    expect(log).to_have_attribute("data-state", "completed")
    assert fake_tasks.stream_requests == []  # the stream was never opened


def test_the_log_page_works_without_javascript(browser, portal, session, fake_tasks):
    fake_tasks.tasks[TASK] = task_events(TASK, [("fetch", "Fetched without JS")])
    row = order(session, "new-python-service")
    _with_task(session, row)
    context = browser.new_context(base_url=portal, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/auth/sign-in")
        tab.get_by_role("button", name="Sign in as Rui Requester").click()
        tab.goto(f"/requests/{row.public_id}")
        tab.get_by_role("link", name="Open the task log").click()
        expect(tab).to_have_url(re.compile(rf"/requests/{row.public_id}/log$"))
        expect(tab.locator(".static-log li").first).to_have_text(re.compile(r"\[fetch\] Fetched without JS"))
    finally:
        context.close()
