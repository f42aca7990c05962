"""GitHub pull sync end to end against a stubbed REST API: what is stored, and which requests were made."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session

from portal.flow.models import FlowChange, FlowDeployment, FlowPipelineRun, FlowWorkItem, FlowWorkItemTransition
from portal.sync.models import CONNECTION_ROW, SyncStateRow
from portal.sync.runner import sync_connection
from tests.sync.conftest import link_component
from tests.sync.fake_github import (
    REPO_BASE,
    SLUG,
    make_deployment,
    make_issue,
    make_pull,
    make_run,
    make_status,
)

PULLS = f"{REPO_BASE}/pulls"


def list_pages(github) -> list[str]:
    """The requested pages of the pull request list itself (not of a pull request's commits)."""
    return [p for p in github.paths() if p.split("?")[0] == PULLS]


def sync(engine, plugin, github, clock, **options):
    return asyncio.run(sync_connection(engine, plugin, transport=github.transport(), sleep=clock.sleep,
                                       clock=clock, rng=random.Random(1), **options))


def rows(engine, model):
    with Session(engine) as session:
        return session.execute(select(model)).scalars().all()


def cursor(engine, resource):
    with Session(engine) as session:
        row = session.execute(select(SyncStateRow).where(SyncStateRow.resource == f"{SLUG}:{resource}")).scalar_one()
    return json.loads(row.cursor)


def connection_row(engine) -> SyncStateRow:
    with Session(engine) as session:
        return session.execute(select(SyncStateRow).where(SyncStateRow.resource == CONNECTION_ROW)).scalar_one()


def five_pulls(github):
    github.pulls = [make_pull(number, updated_minutes=number * 10, merged=number % 2 == 0) for number in range(1, 6)]


def test_pulls_are_read_over_three_pages_following_link_headers(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and report.stopped is None
    assert list_pages(github) == [f"{PULLS}?page=1", f"{PULLS}?page=2", f"{PULLS}?page=3"]
    changes = {c.number: c for c in rows(engine, FlowChange)}
    assert sorted(changes) == [1, 2, 3, 4, 5]
    assert changes[2].state == "merged" and changes[2].merge_sha and changes[1].state == "open"
    assert changes[5].link_annotation == "github.com/project-slug" and changes[5].link_value == SLUG.lower()
    assert changes[5].repository == SLUG
    assert github.requests[0].headers["authorization"] == "Bearer ghp_test_token"
    assert github.requests[0].headers["x-github-api-version"] == "2022-11-28"
    assert report.pages_by_resource[f"{SLUG}:pulls"] == 3 + 5  # list pages, and one per pull request's commits
    assert cursor(engine, "pulls") == {"since": "2024-03-01T12:50:00+00:00"}


def test_deployments_runs_and_issues_are_stored(engine, linked_repo, github, github_plugin, clock):
    github.deployments = [make_deployment(11, 0), make_deployment(12, 20, environment="staging")]
    github.statuses = {11: [make_status(1, "in_progress", 1), make_status(2, "success", 3)], 12: []}
    github.runs = [make_run(21, 0), make_run(22, 30, status="in_progress")]
    github.issues = [make_issue(31, 10, closed=True), {**make_issue(32, 15), "pull_request": {"url": "x"}}]
    report = sync(engine, github_plugin, github, clock)
    assert report.ok
    deployments = {d.id.rsplit(":", 1)[1]: d for d in rows(engine, FlowDeployment)}
    assert deployments["11"].status == "success" and deployments["11"].tier == "production"
    assert deployments["11"].finished_at is not None
    assert deployments["12"].status == "pending" and deployments["12"].tier == "staging"
    runs = {r.id.rsplit(":", 1)[1]: r.status for r in rows(engine, FlowPipelineRun)}
    assert runs == {"21": "success", "22": "running"}
    # The issue list also carries pull requests; only the real issue becomes a work item.
    [item] = rows(engine, FlowWorkItem)
    assert item.key == f"{SLUG}#31" and item.status_category == "done"
    assert sorted(t.to_status for t in rows(engine, FlowWorkItemTransition)) == ["closed", "open"]
    # The unfinished deployment and the running workflow run will be read again next time.
    assert [d["id"] for d in cursor(engine, "deployments")["unfinished"]] == [12]
    assert cursor(engine, "workflow-runs")["since"] == "2024-03-01T12:30:00+00:00"


def test_second_run_of_an_unchanged_repository_sends_only_conditional_requests(
        engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    github.deployments = [make_deployment(11, 0), make_deployment(12, 20)]
    github.statuses = {11: [make_status(2, "success", 3)], 12: [make_status(3, "queued", 21)]}
    github.runs = [make_run(21, 0)]
    github.issues = [make_issue(31, 10)]
    sync(engine, github_plugin, github, clock)
    github.requests.clear()

    report = sync(engine, github_plugin, github, clock)
    # The first page of each of the five lists, and the unfinished deployment's statuses: 6 requests, all 304
    # (no pull request changed, so no pull request's commits are asked for).
    assert len(github.requests) == 6
    assert all(request.headers.get("if-none-match") for request in github.requests)
    assert report.requests == 6 and report.not_modified == 6 and report.records == 0
    assert len(rows(engine, FlowChange)) == 5
    assert connection_row(engine).last_not_modified == 6


def test_an_update_is_picked_up_from_the_first_page_only(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    sync(engine, github_plugin, github, clock)
    github.requests.clear()
    github.pulls[0] = make_pull(1, updated_minutes=100, merged=True)
    sync(engine, github_plugin, github, clock)
    # Page 1 changed (200); its second item is older than the cursor, so the walk stops there.
    assert list_pages(github) == [f"{PULLS}?page=1"]
    assert {c.number: c.state for c in rows(engine, FlowChange)}[1] == "merged"
    assert cursor(engine, "pulls") == {"since": "2024-03-01T13:40:00+00:00"}


def test_exhausted_budget_stops_cleanly_and_the_next_run_resumes(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    report = sync(engine, github_plugin, github, clock, budget=2)
    # Page 1 (pulls 5 and 4), then the commits of pull 5; the budget ran out before those of pull 4.
    assert report.error is None and "budget of 2" in report.stopped
    assert list_pages(github) == [f"{PULLS}?page=1"]
    assert sorted(c.number for c in rows(engine, FlowChange)) == [4, 5]
    assert {c.number: c.first_commit_at is not None for c in rows(engine, FlowChange)} == {4: False, 5: True}
    saved = cursor(engine, "pulls")
    assert saved["since"] is None and "page=2" in saved["walk"]["next"]
    assert [entry["number"] for entry in saved["commits_due"]] == [4]
    assert "stopped early" in connection_row(engine).last_error

    github.requests.clear()
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and report.stopped is None
    # Resumed with the commits of pull 4, then page 2 of the list (not page 1), then the other resources.
    assert github.paths()[:2] == [f"{PULLS}/4/commits?page=1", f"{PULLS}?page=2"]
    assert sorted(c.number for c in rows(engine, FlowChange)) == [1, 2, 3, 4, 5]
    assert all(c.first_commit_at is not None for c in rows(engine, FlowChange))
    assert cursor(engine, "pulls") == {"since": "2024-03-01T12:50:00+00:00"}
    assert connection_row(engine).last_error is None


def test_a_crash_on_page_two_keeps_page_one_and_its_cursor(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)

    def broken_page_two(request: httpx.Request):
        if request.url.path == PULLS and request.url.params.get("page") == "2":
            return httpx.Response(200, content=b"[{not json", headers={"Content-Type": "application/json"})
        return None

    github.interceptors.append(broken_page_two)
    report = sync(engine, github_plugin, github, clock)
    assert report.error and "JSONDecodeError" in report.error
    assert sorted(c.number for c in rows(engine, FlowChange)) == [4, 5]
    saved = cursor(engine, "pulls")
    # The cursor has not moved past page 1: no `since` yet, and page 2 is where the walk resumes.
    assert saved["since"] is None and "page=2" in saved["walk"]["next"]
    # The next run resumes the half-read walk at page 2 instead of trusting page 1's validator.
    github.interceptors.clear()
    github.requests.clear()
    assert sync(engine, github_plugin, github, clock).ok
    assert github.paths()[0] == f"{PULLS}?page=2"
    assert sorted(c.number for c in rows(engine, FlowChange)) == [1, 2, 3, 4, 5]


def test_an_empty_answer_never_deletes_records(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    github.issues = [make_issue(31, 10)]
    sync(engine, github_plugin, github, clock)
    before = cursor(engine, "pulls")
    github.pulls, github.issues = [], []
    report = sync(engine, github_plugin, github, clock)
    assert report.ok
    assert len(rows(engine, FlowChange)) == 5 and len(rows(engine, FlowWorkItem)) == 1
    assert cursor(engine, "pulls") == before


def test_persistent_server_errors_never_delete_records(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    sync(engine, github_plugin, github, clock)
    before = cursor(engine, "pulls")
    github.interceptors.append(lambda request: httpx.Response(500, json={"message": "Server Error"}))
    github.requests.clear()
    report = sync(engine, github_plugin, github, clock)
    assert report.error and "HTTP 500" in report.error and "gave up after 5 attempts" in report.error
    assert len(github.requests) == 5  # bounded: max attempts for the first request, then the run ends
    assert len(rows(engine, FlowChange)) == 5
    assert cursor(engine, "pulls") == before
    assert "HTTP 500" in connection_row(engine).last_error


def test_full_sync_ignores_cursors_and_validators(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    sync(engine, github_plugin, github, clock)
    github.requests.clear()
    report = sync(engine, github_plugin, github, clock, full=True)
    assert report.not_modified == 0
    assert not any(request.headers.get("if-none-match") for request in github.requests)
    assert list_pages(github) == [f"{PULLS}?page=1", f"{PULLS}?page=2", f"{PULLS}?page=3"]


def test_nothing_is_synced_without_a_linked_repository(engine, github, github_plugin, clock):
    five_pulls(github)
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and github.requests == [] and rows(engine, FlowChange) == []


@pytest.mark.parametrize("status", [404, 401])
def test_a_missing_repository_or_bad_token_is_reported_without_retrying(
        engine, linked_repo, github, github_plugin, clock, status):
    github.interceptors.append(lambda request: httpx.Response(status, json={"message": "Bad credentials"}))
    report = sync(engine, github_plugin, github, clock)
    assert f"HTTP {status}" in report.error and "Bad credentials" in report.error
    assert len(github.requests) == 1


def test_an_exhausted_rate_limit_pauses_the_sync_until_github_resets_it(
        engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    github.rate_remaining, github.rate_reset = 0, int(clock.now) + 120
    report = sync(engine, github_plugin, github, clock)
    assert report.ok
    # Every request after the first waited for the (fake) clock to pass the reset; nothing was lost.
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(121.0)
    assert sum(clock.sleeps) == pytest.approx(121.0)
    assert len(rows(engine, FlowChange)) == 5


def test_a_secondary_rate_limit_on_page_two_is_waited_out(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    answered: list[int] = []

    def secondary_limit_once(request: httpx.Request):
        if request.url.params.get("page") == "2" and not answered:
            answered.append(403)
            return httpx.Response(403, json={"message": "You have exceeded a secondary rate limit."},
                                  headers={"Retry-After": "60"})
        return None

    github.interceptors.append(secondary_limit_once)
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and report.retries == 1
    assert clock.sleeps == [60.0]
    assert list_pages(github) == [
        f"{PULLS}?page=1", f"{PULLS}?page=2", f"{PULLS}?page=2", f"{PULLS}?page=3"]
    assert len(rows(engine, FlowChange)) == 5


def test_a_502_and_a_timeout_are_retried_within_the_run(engine, linked_repo, github, github_plugin, clock):
    five_pulls(github)
    failures = [httpx.Response(502, text="Bad Gateway"), httpx.ReadTimeout("timed out")]

    def flaky_page_one(request: httpx.Request):
        if request.url.path == PULLS and request.url.params.get("page", "1") == "1" and failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return None

    github.interceptors.append(flaky_page_one)
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and report.retries == 2
    assert list_pages(github) == [f"{PULLS}?page=1"] * 3 + [
        f"{PULLS}?page=2", f"{PULLS}?page=3"]
    assert len(rows(engine, FlowChange)) == 5


def test_a_missing_repository_does_not_stop_the_others(engine, linked_repo, github, github_plugin, clock):
    link_component(engine, "gone", {"github.com/project-slug": "Codertocat/Renamed-Away"})
    five_pulls(github)
    report = sync(engine, github_plugin, github, clock)
    assert report.error.startswith("TargetsUnavailable: Codertocat/Renamed-Away: HTTP 404")
    assert len(rows(engine, FlowChange)) == 5
    # One request for the missing repository: a 404 is not retried.
    assert sum("Renamed-Away" in p for p in github.paths()) == 1
