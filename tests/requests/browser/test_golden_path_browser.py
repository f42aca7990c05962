"""The whole self-service loop in a real browser, on the demo organisation and golden paths as `make run`
serves them (catalog/, templates/, the in-process task runner): order a new service through the form
(a validation error first), watch the real task's live log, see the order delivered (its repository
published to a local git repository, its component registered), and confirm the value."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.app import create_app
from tests.live_server import serve_in_thread
from tests.browser_support import browser  # noqa: F401 - the module's Chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[3]
ORDER = "/products/delivery-platform/capabilities/new-python-service/order"
REQUEST_URL = re.compile(r"/requests/REQ-\d+$")


@pytest.fixture
def portal(settings, tmp_path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    app = create_app(settings.model_copy(update={
        "env": "development", "data_dir": data_dir, "run_worker": True, "catalog_refresh_interval": 0,
        "catalog_paths": [str(REPO / "catalog")], "template_paths": [str(REPO / "templates")]}))
    with serve_in_thread(app, start_timeout=30) as base_url:
        yield base_url, data_dir


def signed_in(browser, base_url: str, name: str):  # noqa: ANN001, ANN201
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/auth/sign-in")
    page.get_by_role("button", name=f"Sign in as {name}").click()
    expect(page.locator(".whoami")).to_have_text(f"Signed in as {name}")
    return page


def test_order_watch_the_live_log_see_it_delivered_and_confirm_the_value(browser, portal):
    base_url, data_dir = portal
    page = signed_in(browser, base_url, "Emma Lindqvist")  # team-shipments: an application team
    page.goto(ORDER)

    page.get_by_label("Name").fill("returns-service")
    page.get_by_label("Description").fill("Takes back parcels customers return")
    page.get_by_label("Owner").select_option("group:default/team-shipments")
    page.get_by_label("System").select_option("system:default/shipment-management")
    page.get_by_role("button", name="Next").click()

    # A validation error first: the template wants a Jira key in capitals.
    page.get_by_label("Jira project key").fill("ship")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Jira project key")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_contain_text("Jira project key")
    page.get_by_label("Jira project key").fill("SHIP")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Repository name").fill("returns-service")
    page.get_by_role("button", name="Next").click()
    expect(page.locator('[aria-current="step"]')).to_have_text("Review and submit")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)
    request_id = page.url.rsplit("/", 1)[-1]

    # The live log follows the real task until it completes, and the page shows the order delivered.
    log = page.locator("#task-log")
    expect(log).to_have_attribute("data-state", "completed", timeout=30_000)
    lines = log.locator(".task-log-lines li")
    expect(lines.first).to_be_visible()
    expect(log).to_contain_text("[publish]")
    expect(log).to_contain_text("[register]")
    page.reload()
    expect(page.locator("#request-stage")).to_have_text("delivered")

    order = page.request.get(f"/api/v1/requests/{request_id}").json()
    assert [(event["from"], event["to"], event["source"]) for event in order["events"]] == [
        (None, "submitted", "user"), ("submitted", "fulfilling", "automation"), ("fulfilling", "delivered", "automation")]
    assert order["component"] == "component:default/returns-service"
    # The repository really exists: a bare git repository under the data folder, with the skeleton committed.
    repositories = list((data_dir / "git").rglob("returns-service.git"))
    assert len(repositories) == 1
    files = subprocess.run(["git", "--git-dir", str(repositories[0]), "ls-tree", "-r", "--name-only", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert "catalog-info.yaml" in files
    # And the new component is in the catalog.
    entity = page.request.get("/api/catalog/entities/by-name/component/default/returns-service")
    assert entity.ok and entity.json()["spec"]["owner"] in ("group:default/team-shipments", "team-shipments",
                                                           "group:team-shipments")

    value = page.locator("section.value")
    value.get_by_label("5").check()
    value.get_by_label("Time saved").fill("P2D")
    value.get_by_label("Comment").fill("A service in minutes instead of a week")
    value.get_by_role("button", name="Confirm the value").click()
    expect(page.locator("#request-stage")).to_have_text("value-confirmed")
    expect(page.locator(".value-confirmed")).to_contain_text("5/5")


def _taken_repository(data_dir: Path, owner: str, name: str) -> Path:
    """A repository that already has a `main` branch, as if someone had published there before."""
    work = data_dir / "scratch" / name
    work.mkdir(parents=True)
    git = ["git", "-c", "user.name=Someone", "-c", "user.email=someone@example.com", "-C", str(work)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (work / "README.md").write_text("taken\n")
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    bare = data_dir / "git" / owner / f"{name}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def test_a_failed_golden_path_is_retried_from_the_request_page(browser, portal):
    import shutil

    base_url, data_dir = portal
    taken = _taken_repository(data_dir, "northwind", "parcel-lockers")
    page = signed_in(browser, base_url, "Emma Lindqvist")
    page.goto(ORDER)
    page.get_by_label("Name").fill("parcel-lockers")
    page.get_by_label("Description").fill("Finds the nearest parcel locker")
    page.get_by_label("Owner").select_option("group:default/team-shipments")
    page.get_by_label("System").select_option("system:default/shipment-management")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Jira project key").fill("SHIP")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Repository name").fill("parcel-lockers")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(REQUEST_URL)

    log = page.locator("#task-log")
    expect(log).to_have_attribute("data-outcome", "failed", timeout=30_000)
    expect(log).to_contain_text("[publish]")
    page.reload()
    expect(page.locator("#request-stage")).to_have_text("failed")
    retry = page.get_by_role("button", name="Run the task again")
    expect(retry).to_be_visible()

    shutil.rmtree(taken)  # the cause is fixed: the old repository is moved out of the way
    retry.click()
    expect(page.locator("#request-stage")).to_have_text(re.compile("fulfilling|delivered"))
    # The log shows the failed attempt, then follows the new one live to its completion.
    expect(page.locator("#task-log")).to_have_attribute("data-outcome", "completed", timeout=30_000)
    expect(page.locator("#task-log")).to_contain_text("Retried by")
    page.reload()
    expect(page.locator("#request-stage")).to_have_text("delivered")
    events = page.request.get(f"/api/v1/requests/{page.url.rsplit('/', 1)[-1]}").json()["events"]
    assert [(event["from"], event["to"], event["rework"]) for event in events][1:] == [
        ("submitted", "fulfilling", False), ("fulfilling", "failed", False), ("failed", "fulfilling", True),
        ("fulfilling", "delivered", False)]
