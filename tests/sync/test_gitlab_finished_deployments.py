"""GitLab pull sync against the stubbed REST API (tests/sync/fake_gitlab.py, deployments built from the
go-gitlab Deployment Hook fixture): a deployment whose status changes after it finished is read again,
because GitLab moves its `updated_at` and the list is read most recently updated first. Unlike GitHub
(tests/sync/test_github_finished_deployments.py) no look-back window and no per-deployment reads are needed."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from flowport_gitlab import GitLabConfig, GitLabPlugin
from portal.flow.models import FlowDeployment
from portal.flow.records import parse_time
from portal.sync.runner import SyncReport, sync_connection
from tests.sync.conftest import link_component
from tests.sync.fake_github import FakeClock
from tests.sync.fake_gitlab import BASE, PROJECT, FakeGitLab, change_deployment_status, make_deployment
from tests.sync.test_github_sync import rows

NOW = datetime.now(UTC).replace(microsecond=0)
DEPLOYMENTS = f"{BASE}/deployments"


def ago(**delta) -> str:
    """An ISO time with milliseconds, as GitLab writes `created_at` and `updated_at`."""
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def finished(deployment_id: int, when: str, status: str = "success") -> dict:
    """A deployment that started ten minutes before it finished `when`."""
    started = (parse_time(when) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return make_deployment(deployment_id, status, created=started, updated=when)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gitlab(engine, clock) -> FakeGitLab:
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": PROJECT})
    return FakeGitLab(page_size=2, link_header=True, clock=clock)


@pytest.fixture
def plugin() -> GitLabPlugin:
    return GitLabPlugin(GitLabConfig(token="glpat-test"))


def sync(engine, plugin, gitlab, clock) -> SyncReport:
    report = asyncio.run(sync_connection(engine, plugin, transport=gitlab.transport(), sleep=clock.sleep,
                                         clock=clock, rng=random.Random(1)))
    assert report.ok, report.error
    return report


def the_deployment(engine, deployment_id: int) -> FlowDeployment:
    return next(d for d in rows(engine, FlowDeployment) if d.id == f"gitlab:{PROJECT}:deployment:{deployment_id}")


def deployment_requests(gitlab) -> list[tuple[str, int]]:
    """Requests for deployments (the list or any one deployment): page number and answer status."""
    return [(r.url.params.get("page", "1"), answered) for r, answered in zip(gitlab.requests, gitlab.answered)
            if path_of(r).startswith(DEPLOYMENTS)]


def path_of(request) -> str:
    """The path as sent, the project's slash still encoded (%2F)."""
    return request.url.raw_path.decode().split("?")[0]


def written_deployments(report: SyncReport) -> set[int]:
    return {int(key[1].rsplit(":", 1)[1]) for key in report.written if key[0] == "deployment"}


@pytest.mark.parametrize(("later", "stored"), [("failed", "failure"), ("canceled", "cancelled")])
def test_a_success_later_marked_failed_is_stored_failed(engine, gitlab, plugin, clock, later, stored):
    gitlab.deployments = [finished(41, ago(hours=2)), *(finished(n, ago(days=n)) for n in (1, 2, 3))]
    sync(engine, plugin, gitlab, clock)
    assert the_deployment(engine, 41).status == "success"

    # An hour later GitLab marks it failed (or canceled): the same deployment, a new status and updated_at.
    change_deployment_status(gitlab.deployments[0], later, ago(hours=1))
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    deployment = the_deployment(engine, 41)
    assert deployment.status == stored
    assert deployment.finished_at == parse_time(ago(hours=1))
    assert report.records == 1
    # One request: the list's first page, most recently updated first; no deployment is read on its own.
    [listed] = [r for r in gitlab.requests if path_of(r).startswith(DEPLOYMENTS)]
    assert path_of(listed) == DEPLOYMENTS
    assert (listed.url.params["order_by"], listed.url.params["sort"]) == ("updated_at", "desc")
    assert listed.headers.get("if-none-match")  # conditional: it answered 200 only because 41 changed

    # Nothing changed since: the list answers 304 and the run writes nothing.
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert report.records == 0
    assert deployment_requests(gitlab) == [("1", 304)]


def test_a_deployment_finished_long_ago_is_not_read_again_until_it_changes(engine, gitlab, plugin, clock):
    gitlab.deployments = [finished(43, ago(days=30)), finished(44, ago(days=31)), finished(45, ago(days=2)),
                          finished(46, ago(days=1))]
    sync(engine, plugin, gitlab, clock)

    # A new deployment: the walk reads the first page only; 43 and 44 (page 2, finished 30 days ago and
    # unchanged since) are neither requested nor written again. 46 is: it is stamped exactly at the cursor,
    # and the walk re-reads items at its cursor in case another one shares that time.
    gitlab.deployments.append(finished(47, ago(hours=1)))
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert deployment_requests(gitlab) == [("1", 200)]
    assert written_deployments(report) == {47, 46}

    # 43 is marked failed 30 days after it finished: it comes first in the list and is read again (a
    # GitHub deployment that old is past its look-back window and would keep its old outcome).
    change_deployment_status(gitlab.deployments[0], "failed", ago(minutes=5))
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert the_deployment(engine, 43).status == "failure"
    assert written_deployments(report) == {43, 47}
    assert deployment_requests(gitlab) == [("1", 200)]


def test_the_summary_counts_each_record_once_when_a_change_shifts_the_pages(engine, gitlab, plugin, clock):
    gitlab.deployments = [finished(n, ago(days=10 - n)) for n in range(1, 7)]  # 6 is the newest
    sync(engine, plugin, gitlab, clock)

    # Three deployments are marked failed before the next run: they fill the first page and a half.
    by_id = {d["id"]: d for d in gitlab.deployments}
    for minutes, deployment_id in ((30, 1), (20, 2), (10, 6)):
        change_deployment_status(by_id[deployment_id], "failed", ago(minutes=minutes))

    # While the run reads page 1, 4 is canceled: it moves to the top and page 2 starts with 2 again
    # (offset pagination), so 2 is read twice in one run.
    def cancel_four_before_page_two(request) -> None:
        if path_of(request) == DEPLOYMENTS and request.url.params.get("page") == "2" \
                and by_id[4]["status"] != "canceled":
            change_deployment_status(by_id[4], "canceled", ago(minutes=1))

    gitlab.before_answer.append(cancel_four_before_page_two)
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert [page for page, _ in deployment_requests(gitlab)] == ["1", "2", "3"]
    assert written_deployments(report) == {6, 2, 1}
    assert report.records == 3  # 2 was written by pages 1 and 2: one record
    assert {n: the_deployment(engine, n).status for n in (1, 2, 6)} == dict.fromkeys((1, 2, 6), "failure")
    assert the_deployment(engine, 4).status == "success"  # changed after the run passed it

    # The next run finds 4 first. 6 is read again: it is stamped exactly at the cursor, and the walk
    # re-reads items at its cursor in case another one shares that time.
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert the_deployment(engine, 4).status == "cancelled"
    assert written_deployments(report) == {4, 6}
    assert report.records == 2


def test_a_spent_rate_limit_is_waited_out_and_the_change_still_lands(engine, plugin, clock):
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": PROJECT})
    # Three requests a minute: a run (five lists, three pages of deployments) must wait for the reset.
    gitlab = FakeGitLab(page_size=2, link_header=True, rate_limit=3, clock=clock)
    gitlab.deployments = [finished(n, ago(days=n)) for n in range(51, 55)]
    sync(engine, plugin, gitlab, clock)
    change_deployment_status(gitlab.deployments[0], "failed", ago(minutes=2))
    clock.sleeps.clear()
    gitlab.clear()
    report = sync(engine, plugin, gitlab, clock)
    assert the_deployment(engine, 51).status == "failure"
    assert report.records == 1
    # The run's first request, sent before it could know the quota was spent, is answered 429 and retried
    # after Retry-After; later the client sees RateLimit-Remaining reach 0 and waits without another 429.
    assert gitlab.answered.count(429) == 1
    assert len(clock.sleeps) == 2 and all(seconds >= 60 for seconds in clock.sleeps)
