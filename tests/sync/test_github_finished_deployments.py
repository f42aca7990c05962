"""GitHub pull sync against the stubbed REST API (tests/sync/fake_github.py, built from the octokit
deployment and deployment_status payloads): a deployment that already finished is read again while its
outcome may still change, and the run's summary counts each changed record once."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from flowport_github import GitHubConfig, GitHubPlugin
from portal.flow.models import FlowChange, FlowCommit, FlowDeployment
from portal.sync.runner import sync_connection
from tests.sync.fake_github import REPO_BASE, make_deployment, make_pull, make_status
from tests.sync.test_github_sync import rows

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_at(deployment_id: int, created: str) -> dict:
    deployment = make_deployment(deployment_id, 0)
    deployment.update(created_at=created, updated_at=created)
    return deployment


def status_at(status_id: int, state: str, created: str) -> dict:
    status = make_status(status_id, state, 0)
    status.update(created_at=created, updated_at=created)
    return status


def sync(engine, plugin, github, clock):
    return asyncio.run(sync_connection(engine, plugin, transport=github.transport(), sleep=clock.sleep,
                                       clock=clock, rng=random.Random(1)))


def statuses_requests(github, deployment_id: int) -> list:
    return [r for r in github.requests if r.url.path == f"{REPO_BASE}/deployments/{deployment_id}/statuses"]


def the_deployment(engine, deployment_id: int) -> FlowDeployment:
    return next(d for d in rows(engine, FlowDeployment) if d.id.endswith(f":deployment:{deployment_id}"))


def test_a_success_later_marked_failed_becomes_failure(engine, linked_repo, github, github_plugin, clock):
    github.deployments = [deployment_at(41, ago(hours=3))]
    github.statuses = {41: [status_at(1, "in_progress", ago(hours=3)), status_at(2, "success", ago(hours=2))]}
    sync(engine, github_plugin, github, clock)
    assert the_deployment(engine, 41).status == "success"

    # A smoke test an hour later marks it failed: the deployment list itself is unchanged (a 304).
    github.statuses[41].append(status_at(3, "failure", ago(hours=1)))
    github.clear()
    report = sync(engine, github_plugin, github, clock)
    deployment = the_deployment(engine, 41)
    assert deployment.status == "failure"
    assert deployment.finished_at == datetime.fromisoformat(ago(hours=1).replace("Z", "+00:00"))
    assert report.records == 1
    [reread] = statuses_requests(github, 41)
    assert reread.headers.get("if-none-match")  # conditional: an unchanged deployment costs a 304

    # Nothing changed since: the re-read answers 304 and writes nothing.
    github.clear()
    report = sync(engine, github_plugin, github, clock)
    assert report.records == 0
    assert [github.answered[github.requests.index(r)] for r in statuses_requests(github, 41)] == [304]


def test_an_inactive_status_does_not_hide_the_failure(engine, linked_repo, github, github_plugin, clock):
    github.deployments = [deployment_at(42, ago(hours=3))]
    github.statuses = {42: [status_at(1, "success", ago(hours=2))]}
    sync(engine, github_plugin, github, clock)
    # Marked failed, then superseded by a newer deployment (inactive) before the next run.
    github.statuses[42] += [status_at(2, "failure", ago(hours=1)), status_at(3, "inactive", ago(minutes=30))]
    sync(engine, github_plugin, github, clock)
    assert the_deployment(engine, 42).status == "failure"


def test_deployments_finished_before_the_look_back_are_not_read_again(engine, linked_repo, github, github_plugin,
                                                                      clock):
    github.deployments = [deployment_at(43, ago(days=30)), deployment_at(44, ago(days=2))]
    github.statuses = {43: [status_at(1, "success", ago(days=30))], 44: [status_at(2, "success", ago(days=2))]}
    sync(engine, github_plugin, github, clock)
    github.clear()
    sync(engine, github_plugin, github, clock)
    assert statuses_requests(github, 43) == []  # finished 30 days ago: beyond the 7-day look-back
    assert len(statuses_requests(github, 44)) == 1


@pytest.mark.parametrize(("days", "reread"), [(0, 0), (3, 1)])
def test_the_look_back_is_configurable(engine, linked_repo, github, clock, days, reread):
    plugin = GitHubPlugin(GitHubConfig(name="default", token="ghp_test_token", deployment_lookback_days=days))
    github.deployments = [deployment_at(45, ago(days=1))]
    github.statuses = {45: [status_at(1, "success", ago(days=1))]}
    sync(engine, plugin, github, clock)
    github.clear()
    sync(engine, plugin, github, clock)
    assert len(statuses_requests(github, 45)) == reread


def test_the_look_back_refuses_nonsense():
    for days in (-1, 91, "week"):
        with pytest.raises(ValueError):
            GitHubConfig(name="default", deployment_lookback_days=days)


def test_the_summary_counts_each_changed_record_once(engine, linked_repo, github, github_plugin, clock):
    # Two pull requests: each is written by the list page and again (its first commit time) by its commits
    # page; with its commit that is two records per pull request, not three.
    github.pulls = [make_pull(1, 10), make_pull(2, 20)]
    github.deployments = [deployment_at(46, ago(hours=1))]
    github.statuses = {46: [status_at(1, "in_progress", ago(minutes=50))]}
    report = sync(engine, github_plugin, github, clock)
    assert (len(rows(engine, FlowChange)), len(rows(engine, FlowCommit)), len(rows(engine, FlowDeployment))) == \
        (2, 2, 1)
    assert report.records == 5

    # Next run: the unfinished deployment is re-read (1 record); nothing else changed.
    github.statuses[46].append(status_at(2, "success", ago(minutes=40)))
    report = sync(engine, github_plugin, github, clock)
    assert report.records == 1
    assert the_deployment(engine, 46).status == "success"


def test_the_look_back_of_the_default_connection_comes_from_the_environment():
    from portal.plugins.registry import PluginRegistry

    registry = PluginRegistry()
    registry.load_entry_points()
    registry.configure_from_environment({"FLOWPORT_GITHUB_DEPLOYMENT_LOOKBACK_DAYS": "3"})
    assert registry.connection("github").config.deployment_lookback_days == 3
