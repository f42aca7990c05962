"""GitLab Push Hooks into commit records, Pipeline Hook builds into job runs, Release Hooks into release
records, and merge requests' head branch (webhook and sync)."""

import asyncio
import copy
import json
import random
import uuid

import httpx
import pytest

from flowport_gitlab import GitLabConfig, GitLabPlugin
from flowport_gitlab.normalize import normalize_event
from portal.app import create_app
from portal.flow.models import FlowChange, FlowCommit, FlowPipelineRun, FlowRelease
from portal.sync.runner import sync_connection
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.sync.conftest import link_component
from tests.sync.fake_github import FakeClock
from tests.webhooks.support import all_rows, at, post_and_process

TOKEN = "gl-normalize-token"
GITLAB = FIXTURES / "gitlab"
PROJECT = "gitlab-org/gitlab-test"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITLAB_WEBHOOK_SECRET", TOKEN)
    return create_app(settings)


def fixture(path: str) -> dict:
    return json.loads((GITLAB / path).read_bytes())


def deliver(app, *hooks: tuple[str, dict]):  # noqa: ANN001
    return post_and_process(app, "/webhooks/gitlab", [
        (json.dumps(payload).encode(),
         {"X-Gitlab-Event": event, "X-Gitlab-Token": TOKEN, "Idempotency-Key": str(uuid.uuid4())})
        for event, payload in hooks
    ])


def test_a_push_hook_gives_one_commit_record_per_listed_commit(app, engine):
    report = deliver(app, ("Push Hook", fixture("go-gitlab/push.json")))
    assert (report.processed, report.failed, report.records) == (1, 0, 2)
    commits = {commit.sha: commit for commit in all_rows(engine, FlowCommit)}
    merge = commits["b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"]
    assert merge.id == "gitlab:mike/diaspora:commit:b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"
    assert (merge.source, merge.repository, merge.branch) == ("gitlab", "mike/diaspora", "master")
    assert (merge.title, merge.author) == ("Merge branch 'some-feature' into 'master'", "Jordi Mallach")
    assert merge.authored_at == at("2011-12-12T12:27:31+00:00")
    assert merge.pushed_at is None  # GitLab's push hook does not say when the push happened
    assert (merge.link_annotation, merge.link_value) == ("gitlab.com/project-slug", "mike/diaspora")
    assert merge.url == "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"
    fix = commits["da1560886d4f094c3e6c9ef40349f7d38b5d27d7"]
    assert (fix.title, fix.author, fix.authored_at) == (
        "fixed readme", "GitLab dev user", at("2012-01-03T21:36:29+00:00"))


def test_a_push_without_commit_titles_uses_the_messages_first_line(app, engine):
    deliver(app, ("Push Hook", fixture("jira-to-matrix/push-event.json")))
    [commit] = all_rows(engine, FlowCommit)
    assert (commit.repository, commit.branch, commit.title) == (
        "indev/gitlabtomatrix", "add-colors", "indev/gitlabtomatrix#57 update readme")
    assert commit.authored_at == at("2020-07-13T13:52:49+00:00")


def test_a_commit_pushed_again_to_another_branch_keeps_its_first_branch(app, engine):
    feature = fixture("go-gitlab/push.json")
    feature["ref"] = "refs/heads/some-feature"
    deliver(app, ("Push Hook", feature), ("Push Hook", fixture("go-gitlab/push.json")))
    assert {commit.branch for commit in all_rows(engine, FlowCommit)} == {"some-feature"}


def deleted_branch() -> dict:
    payload = fixture("go-gitlab/push.json")
    payload.update(after="0" * 40, checkout_sha=None)
    return payload


@pytest.mark.parametrize("payload", [
    {**fixture("go-gitlab/push.json"), "ref": "refs/tags/v1.0.0"},
    deleted_branch(),
])
def test_tag_refs_and_deleted_branches_give_no_commits(payload):
    assert normalize_event(payload) == []


def job_rows(engine) -> dict[str, FlowPipelineRun]:
    return {run.id.rsplit(":", 1)[1]: run for run in all_rows(engine, FlowPipelineRun) if ":job:" in run.id}


def test_pipeline_hook_builds_become_job_runs(app, engine):
    report = deliver(app, ("Pipeline Hook", fixture("go-gitlab/pipeline.json")))
    assert (report.processed, report.failed, report.records) == (1, 0, 6)
    jobs = job_rows(engine)
    assert {n: (job.name, job.status) for n, job in jobs.items()} == {
        "380": ("production", "cancelled"),  # skipped manual job
        "377": ("test-image", "success"),
        "378": ("test-build", "success"),
        "376": ("build-image", "success"),
        "379": ("staging", "queued"),  # created
    }
    build = jobs["376"]
    assert build.id == f"gitlab:{PROJECT}:job:376"
    assert (build.repository, build.ref, build.sha) == (PROJECT, "master", "bcbb5ec396a2c0f828686f14fac9b80b780504f2")
    assert (build.started_at, build.finished_at) == (at("2016-08-12T15:24:56+00:00"), at("2016-08-12T15:25:26+00:00"))
    assert build.url == "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/376"
    assert (build.link_annotation, build.link_value) == ("gitlab.com/project-slug", PROJECT)
    assert jobs["377"].finished_at is None  # GitLab sent no finish time for it
    assert (jobs["379"].started_at, jobs["379"].finished_at) == (at("2016-08-12T15:23:28+00:00"), None)


def test_pipeline_builds_with_offset_times(app, engine):
    deliver(app, ("Pipeline Hook", fixture("jira-to-matrix/pipe-success.json")))
    jobs = job_rows(engine)
    assert jobs["171337"].name == "node-coverage"
    assert jobs["171337"].started_at == at("2020-07-17T07:19:10+00:00")
    assert jobs["171337"].finished_at == at("2020-07-17T07:19:38+00:00")


def test_a_job_hook_and_a_pipeline_hook_build_update_one_run(app, engine):
    job = fixture("go-gitlab/job.json")
    job.update(build_id=378, build_name="test-build", build_status="running",
               build_started_at="2016-08-12 15:26:12 UTC", build_finished_at=None)
    job["repository"]["homepage"] = "http://192.168.64.1:3005/gitlab-org/gitlab-test"
    deliver(app, ("Job Hook", job), ("Pipeline Hook", fixture("go-gitlab/pipeline.json")))
    run = job_rows(engine)["378"]
    assert (run.name, run.status, run.finished_at) == ("test-build", "success", at("2016-08-12T15:26:29+00:00"))
    assert len(job_rows(engine)) == 5


def test_merge_requests_know_their_head_branch_unless_from_a_fork(app, engine):
    deliver(app, ("Merge Request Hook", fixture("go-gitlab/merge_request.json")))
    [change] = all_rows(engine, FlowChange)
    assert (change.head_branch, change.base_branch) == ("ms-viewport", "master")
    fork = fixture("go-gitlab/merge_request.json")
    fork["object_attributes"]["source_project_id"] = 99
    [record] = normalize_event(fork)
    assert record.values["head_branch"] is None


def test_merge_request_sync_fills_the_head_branch(engine):
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": "gitlabhq/gitlab-test"})
    mr = copy.deepcopy(fixture("go-gitlab/merge_request.json")["object_attributes"])
    mr.update(web_url=mr.pop("url"), updated_at="2024-03-01T12:00:00Z")

    def handle(request: httpx.Request) -> httpx.Response:
        items = [mr] if request.url.path.endswith("/merge_requests") else []
        return httpx.Response(200, json=items, headers={"X-Next-Page": ""})

    clock = FakeClock()
    report = asyncio.run(sync_connection(engine, GitLabPlugin(GitLabConfig()), transport=httpx.MockTransport(handle),
                                         sleep=clock.sleep, clock=clock, rng=random.Random(3)))
    assert report.ok, report.error
    [change] = all_rows(engine, FlowChange)
    assert (change.number, change.head_branch) == (1, "ms-viewport")


def release_hook(action: str = "create", **changes) -> dict:
    """A Release Hook. No published example is in the shared fixtures: this follows the example and field
    list of GitLab's webhook events docs ("Release events"), with the project of the Push Hook fixture."""
    push = fixture("go-gitlab/push.json")
    commit = push["commits"][1]
    payload = {
        "id": 1, "created_at": "2020-11-02 12:55:12 UTC", "description": "v1.1 has been released",
        "name": "v1.1", "released_at": "2020-11-02 12:55:12 UTC", "tag": "v1.1", "object_kind": "release",
        "project": push["project"], "url": "http://example.com/mike/diaspora/-/releases/v1.1", "action": action,
        "assets": {"count": 2, "links": [], "sources": [
            {"format": "zip", "url": "http://example.com/mike/diaspora/-/archive/v1.1/diaspora-v1.1.zip"},
            {"format": "tar.gz", "url": "http://example.com/mike/diaspora/-/archive/v1.1/diaspora-v1.1.tar.gz"}]},
        "commit": {key: commit[key] for key in ("id", "message", "title", "timestamp", "url", "author")},
    }
    payload.update(changes)
    return payload


def test_a_release_hook_gives_a_release_record(app, engine):
    report = deliver(app, ("Release Hook", release_hook()))
    assert (report.processed, report.failed, report.records) == (1, 0, 1)
    [stored] = all_rows(engine, FlowRelease)
    assert stored.id == "gitlab:mike/diaspora:release:v1.1"
    assert (stored.source, stored.repository, stored.tag, stored.name) == ("gitlab", "mike/diaspora", "v1.1", "v1.1")
    assert stored.sha == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert (stored.target, stored.author, stored.draft, stored.prerelease, stored.deleted) == (
        None, None, False, False, False)
    assert stored.created_at == stored.published_at == at("2020-11-02T12:55:12+00:00")
    assert stored.url == "http://example.com/mike/diaspora/-/releases/v1.1"
    assert (stored.link_annotation, stored.link_value) == ("gitlab.com/project-slug", "mike/diaspora")
    [delivery] = all_rows(engine, WebhookDelivery)
    assert delivery.event_type == "release.create"


def test_a_release_updated_deleted_and_created_again_for_its_tag_is_one_row(app, engine):
    deliver(app, ("Release Hook", release_hook()), ("Release Hook", release_hook("update", name="v1.1 final")))
    [updated] = all_rows(engine, FlowRelease)
    assert (updated.name, updated.deleted) == ("v1.1 final", False)
    deliver(app, ("Release Hook", release_hook("delete", name="v1.1 final")))
    [deleted] = all_rows(engine, FlowRelease)
    assert (deleted.name, deleted.deleted) == ("v1.1 final", True)
    # GitLab names a release by its tag: a new release of the tag is the same record, no longer deleted.
    deliver(app, ("Release Hook", release_hook(released_at="2020-11-03 09:00:00 UTC")))
    [again] = all_rows(engine, FlowRelease)
    assert (again.deleted, again.published_at) == (False, at("2020-11-03T09:00:00+00:00"))
