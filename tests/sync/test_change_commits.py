"""Pull sync reads the commits of changed pull and merge requests: a change's first commit time and its
commits as commit records, within the request budget, and without losing a change whose commits fail."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlmodel import Session

from flowport_github.normalize import normalize_event
from flowport_gitlab import GitLabConfig, GitLabPlugin
from portal.flow.models import FlowChange, FlowCommit
from portal.flow.writer import write_records
from portal.sync.change_commits import MAX_TRIES
from portal.sync.models import CONNECTION_ROW, SyncStateRow
from portal.sync.runner import sync_connection
from tests.conftest import FIXTURES
from tests.sync.conftest import link_component
from tests.sync.fake_github import PULLS, SLUG, T0, make_commit, make_pull, stamp
from tests.sync.fake_gitlab import PROJECT, FakeGitLab, make_mr, make_mr_commit
from tests.webhooks.support import at


def minutes(offset: int) -> datetime:
    """The fake APIs' time `offset` minutes after their T0, as stored."""
    return T0 + timedelta(minutes=offset)


def sync(engine, plugin, transport, clock, **options):
    return asyncio.run(sync_connection(engine, plugin, transport=transport, sleep=clock.sleep, clock=clock,
                                       rng=random.Random(1), **options))


def rows(engine, model) -> list:
    with Session(engine) as session:
        return list(session.execute(select(model)).scalars().all())


def change(engine, number: int) -> FlowChange:
    return next(row for row in rows(engine, FlowChange) if row.number == number)


def cursor(engine, resource: str) -> dict:
    with Session(engine) as session:
        row = session.execute(select(SyncStateRow).where(SyncStateRow.resource == resource)).scalar_one()
    return json.loads(row.cursor)


def commit_requests(tool, number: int) -> list[httpx.Request]:
    return [r for r in tool.requests if r.url.path.endswith(f"/{number}/commits")]


def failing_commits(number: int, status: int = 502):
    """An interceptor answering the commits of one change with a server error, every time."""
    def intercept(request: httpx.Request):
        if request.url.path.endswith(f"/{number}/commits"):
            return httpx.Response(status, json={"message": "Server Error"})
        return None

    return intercept


# --- GitHub --------------------------------------------------------------------------------------


def test_a_pull_requests_commits_give_its_first_commit_and_commit_records(
        engine, linked_repo, github, github_plugin, clock, client):
    github.pulls = [make_pull(1, updated_minutes=10)]
    # Listed in history order; the second was authored earliest (e.g. rebased in from an older branch).
    github.pull_commits[1] = [make_commit("a" * 40, -200, "Start\n\nDetails"), make_commit("b" * 40, -300),
                              make_commit("c" * 40, -100)]
    report = sync(engine, github_plugin, github.transport(), clock)
    assert report.ok, report.error
    # Two pages of commits (the fake pages by 2), following GitHub's Link header.
    assert [r.url.params.get("page", "1") for r in commit_requests(github, 1)] == ["1", "2"]
    assert commit_requests(github, 1)[0].url.params["per_page"] == "100"
    assert change(engine, 1).first_commit_at == minutes(-300)
    commits = {row.sha: row for row in rows(engine, FlowCommit)}
    assert set(commits) == {"a" * 40, "b" * 40, "c" * 40}
    first = commits["a" * 40]
    assert first.id == f"github:{SLUG}:commit:{'a' * 40}"
    assert (first.branch, first.title, first.author, first.pushed_at) == ("changes", "Start", "Codertocat", None)
    assert (first.link_annotation, first.link_value) == ("github.com/project-slug", SLUG.lower())
    [item] = client.get("/api/v1/flow/changes", params={"entity": "component:default/hello-world"}).json()["items"]
    assert item["firstCommitAt"] == stamp(-300)


def test_an_edited_pull_request_whose_commits_did_not_change_costs_one_304(
        engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(1, updated_minutes=10)]
    github.pull_commits[1] = [make_commit("a" * 40, -200)]
    sync(engine, github_plugin, github.transport(), clock)
    github.pulls = [{**make_pull(1, updated_minutes=50), "title": "Retitled"}]
    github.clear()
    report = sync(engine, github_plugin, github.transport(), clock)
    [request] = commit_requests(github, 1)
    assert request.headers.get("if-none-match")
    # The changed list page is read; the commits and the four other lists' first pages answer 304.
    assert report.ok and report.requests == 6 and report.not_modified == 5
    assert (change(engine, 1).title, change(engine, 1).first_commit_at) == ("Retitled", minutes(-200))


def test_an_unchanged_pull_request_is_not_asked_for_its_commits_again(
        engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(n, updated_minutes=n * 10) for n in (1, 2, 3)]
    sync(engine, github_plugin, github.transport(), clock)
    github.pulls[0] = make_pull(1, updated_minutes=60)
    github.pull_commits[1] = [make_commit("d" * 40, -500), make_commit("e" * 40, -20)]
    github.clear()
    sync(engine, github_plugin, github.transport(), clock)
    # Pull 1 changed: its commits are read again (200, its first page changed). Pull 3, stamped exactly at the
    # cursor, is re-read by the walk and its commits answer 304; pull 2, older, is not asked about.
    statuses = {r.url.path: status for r, status in zip(github.requests, github.answered, strict=True)
                if r.url.path.endswith("/commits")}
    assert statuses == {f"{PULLS}/1/commits": 200, f"{PULLS}/3/commits": 304}
    assert change(engine, 1).first_commit_at == minutes(-500)
    assert change(engine, 2).first_commit_at is not None


def test_failing_commits_keep_the_pull_request_and_are_read_again_next_run(
        engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(1, updated_minutes=10), make_pull(2, updated_minutes=20)]
    github.interceptors.append(failing_commits(1))
    report = sync(engine, github_plugin, github.transport(), clock)
    # The run goes on: pull 2's commits and the other lists are read; pull 1's failure is named.
    assert report.ok and report.error is None
    assert len(commit_requests(github, 1)) == 5  # the client's attempts, with backoff, then it gives up
    [note] = report.skipped_items
    assert note.startswith(f"commits of pull request {SLUG}#1: HTTP 502") and note.endswith("read again next run")
    assert (change(engine, 1).state, change(engine, 1).first_commit_at) == ("open", None)
    assert change(engine, 2).first_commit_at is not None
    with Session(engine) as session:
        connection = session.execute(select(SyncStateRow).where(SyncStateRow.resource == CONNECTION_ROW)).scalar_one()
    assert connection.last_error.startswith("skipped 1 unreadable item: commits of pull request")
    assert [(e["number"], e["tries"]) for e in cursor(engine, f"{SLUG}:pulls")["commits_due"]] == [(1, 1)]

    github.interceptors.clear()
    github.clear()
    report = sync(engine, github_plugin, github.transport(), clock)
    assert report.ok and not report.skipped_items
    # Read first (before the list, which is unchanged: 304), and not conditionally after a failure.
    [retry] = commit_requests(github, 1)
    assert github.requests[0] is retry and not retry.headers.get("if-none-match")
    assert change(engine, 1).first_commit_at is not None
    assert "commits_due" not in cursor(engine, f"{SLUG}:pulls")


def test_commits_that_keep_failing_are_given_up_after_three_runs(engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(1, updated_minutes=10)]
    github.interceptors.append(failing_commits(1, status=503))
    notes = [sync(engine, github_plugin, github.transport(), clock).skipped_items for _ in range(MAX_TRIES)]
    assert [len(n) for n in notes] == [1, 1, 1]
    assert notes[-1][0].endswith(f"given up after {MAX_TRIES} runs")
    assert len(commit_requests(github, 1)) == 5 * MAX_TRIES
    assert "commits_due" not in cursor(engine, f"{SLUG}:pulls")
    github.clear()
    assert sync(engine, github_plugin, github.transport(), clock).skipped_items == []
    assert commit_requests(github, 1) == []
    assert len(rows(engine, FlowChange)) == 1


def test_a_commit_pushed_earlier_keeps_the_branch_of_its_push(engine, linked_repo, github, github_plugin, clock):
    push = json.loads((FIXTURES / "github/octokit-webhooks/push/with-new-branch.payload.json").read_text())
    sha = push["head_commit"]["id"]
    with Session(engine) as session:
        write_records(session, normalize_event("push", push))
        session.commit()
    github.pulls = [make_pull(1, updated_minutes=10)]
    github.pull_commits[1] = [make_commit(sha, -90)]
    sync(engine, github_plugin, github.transport(), clock)
    [commit] = rows(engine, FlowCommit)
    assert (commit.sha, commit.branch, commit.pushed_at) == (sha, "master", at("2019-05-15T15:20:57+00:00"))
    assert change(engine, 1).first_commit_at == minutes(-90)


# --- GitLab --------------------------------------------------------------------------------------


def gitlab_project(engine) -> FakeGitLab:
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": PROJECT})
    return FakeGitLab(page_size=2)


def test_merge_request_commits_follow_x_next_page_and_give_the_earliest_authored_date(engine, clock):
    gitlab = gitlab_project(engine)
    gitlab.merge_requests = [make_mr(1, 10, source_branch="feature/login"), make_mr(2, 20, merged=True)]
    gitlab.mr_commits = {1: [make_mr_commit("1" * 40, -300), make_mr_commit("2" * 40, -200),
                             make_mr_commit("3" * 40, -100)],
                         2: [make_mr_commit("4" * 40, -50, message="Fix the build\n\nbecause")]}
    report = sync(engine, GitLabPlugin(GitLabConfig(token="glpat-test")), gitlab.transport(), clock)
    assert report.ok, report.error
    # GitLab lists newest first: the earliest commit is on the last page, so every page is read.
    assert [r.url.params.get("page", "1") for r in commit_requests(gitlab, 1)] == ["1", "2"]
    assert len(commit_requests(gitlab, 2)) == 1
    assert change(engine, 1).first_commit_at == minutes(-300)
    assert change(engine, 2).first_commit_at == minutes(-50)
    commits = {row.sha: row for row in rows(engine, FlowCommit)}
    assert len(commits) == 4
    login = commits["1" * 40]
    assert login.id == f"gitlab:{PROJECT}:commit:{'1' * 40}"
    assert (login.branch, login.author, login.title) == ("feature/login", "GitLab dev user", "fixed readme")
    assert login.url == f"https://gitlab.example.com/{PROJECT}/-/commit/{'1' * 40}"
    assert commits["4" * 40].title == "Fix the build"

    gitlab.clear()
    report = sync(engine, GitLabPlugin(GitLabConfig(token="glpat-test")), gitlab.transport(), clock)
    assert commit_requests(gitlab, 1) == [] and report.requests == report.not_modified == 5


def test_a_5xx_on_merge_request_commits_keeps_the_merge_request(engine, clock):
    gitlab = gitlab_project(engine)
    gitlab.merge_requests = [make_mr(1, 10)]
    gitlab.mr_commits = {1: [make_mr_commit("1" * 40, -300)]}
    gitlab.interceptors.append(failing_commits(1, status=500))
    report = sync(engine, GitLabPlugin(GitLabConfig()), gitlab.transport(), clock)
    assert report.ok and len(commit_requests(gitlab, 1)) == 5
    [note] = report.skipped_items
    assert note.startswith(f"commits of merge request {PROJECT}!1: HTTP 500")
    assert change(engine, 1).first_commit_at is None and rows(engine, FlowCommit) == []

    gitlab.interceptors.clear()
    sync(engine, GitLabPlugin(GitLabConfig()), gitlab.transport(), clock)
    assert change(engine, 1).first_commit_at == minutes(-300)


def test_commits_read_before_a_failing_page_are_kept_without_a_first_commit_time(engine, clock):
    gitlab = gitlab_project(engine)
    gitlab.merge_requests = [make_mr(1, 10)]
    gitlab.mr_commits = {1: [make_mr_commit(f"{n}" * 40, -100 * n) for n in range(1, 4)]}

    def second_page_fails(request: httpx.Request):
        if request.url.path.endswith("/1/commits") and request.url.params.get("page") == "2":
            return httpx.Response(502, text="Bad Gateway")
        return None

    gitlab.interceptors.append(second_page_fails)
    report = sync(engine, GitLabPlugin(GitLabConfig()), gitlab.transport(), clock)
    assert len(report.skipped_items) == 1
    # Page 1 (the newest two) is stored; the earliest commit is on page 2, so no first commit time yet.
    assert len(rows(engine, FlowCommit)) == 2 and change(engine, 1).first_commit_at is None
    gitlab.interceptors.clear()
    sync(engine, GitLabPlugin(GitLabConfig()), gitlab.transport(), clock)
    assert len(rows(engine, FlowCommit)) == 3
    assert change(engine, 1).first_commit_at == minutes(-300)
