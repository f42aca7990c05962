"""GitLab hooks through the intake and the worker into flow records, field by field."""

import copy
import json
import uuid
from datetime import UTC

import pytest

from flowport_gitlab.normalize import normalize_event
from portal.app import create_app
from portal.flow.models import FlowChange, FlowDeployment, FlowPipelineRun, FlowWorkItem, FlowWorkItemTransition
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows, at, post_and_process

TOKEN = "gl-normalize-token"
GITLAB = FIXTURES / "gitlab"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITLAB_WEBHOOK_SECRET", TOKEN)
    return create_app(settings)


def fixture(path: str) -> dict:
    return json.loads((GITLAB / path).read_bytes())


def deliver(app, *payloads: tuple[str, dict | bytes]) -> processing.ProcessReport:
    """Post each (X-Gitlab-Event, payload) as GitLab does, then run the worker over the inbox."""
    return post_and_process(app, "/webhooks/gitlab", [
        (payload if isinstance(payload, bytes) else json.dumps(payload).encode(),
         {"X-Gitlab-Event": event, "X-Gitlab-Token": TOKEN, "Idempotency-Key": str(uuid.uuid4())})
        for event, payload in payloads
    ])




def test_merged_merge_request_has_its_merge_sha(app, engine):
    report = deliver(app, ("Merge Request Hook", (GITLAB / "go-scm/pull_request_merge.json").read_bytes()))
    assert (report.processed, report.failed) == (1, 0)
    [change] = all_rows(engine, FlowChange)
    assert change.id == "gitlab:gitlab-org/hello-world!1"
    assert (change.source, change.repository, change.number, change.title) == (
        "gitlab", "gitlab-org/hello-world", 1, "update readme")
    assert (change.link_annotation, change.link_value) == ("gitlab.com/project-slug", "gitlab-org/hello-world")
    assert change.state == "merged"
    assert change.merge_sha == "78a76ee6b4992a6baf64c59fc4c44c7323d60438"
    assert change.created_at == at("2017-12-10T17:01:11+00:00")
    assert change.merged_at == at("2017-12-10T17:08:07+00:00")  # the merge event's updated_at
    assert change.base_branch == "master"
    assert change.url == "https://gitlab.com/gitlab-org/hello-world/merge_requests/1"
    assert change.author is None  # the hook's user merged it; the author is not named


def merged_version(opened: dict) -> dict:
    """The go-gitlab 'open' hook turned into the later 'merge' hook of the same merge request."""
    merged = copy.deepcopy(opened)
    merged["user"] = {"id": 7, "name": "Maintainer", "username": "maintainer"}
    merged["object_attributes"].update({
        "state": "merged", "action": "merge", "updated_at": "2013-12-04 09:00:00 UTC",
        "merge_commit_sha": None,  # fast-forward merge: no merge commit
    })
    return merged


def test_open_then_merged_keeps_the_author_and_uses_the_last_commit_of_a_fast_forward(app, engine):
    opened = fixture("go-gitlab/merge_request.json")
    # The fixture's user (id 1) is not its author (author_id 51); here the author opens their own MR.
    opened["object_attributes"]["author_id"] = opened["user"]["id"]
    deliver(app, ("Merge Request Hook", opened), ("Merge Request Hook", merged_version(opened)))
    [change] = all_rows(engine, FlowChange)
    assert (change.id, change.state, change.author) == ("gitlab:gitlabhq/gitlab-test!1", "merged", "user1")
    assert change.merge_sha == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert change.created_at == at("2013-12-03T17:23:34+00:00")
    assert change.merged_at == at("2013-12-04T09:00:00+00:00")


def test_open_merge_request_has_no_merge_sha(app, engine):
    deliver(app, ("Merge Request Hook", fixture("go-gitlab/merge_request.json")))
    [change] = all_rows(engine, FlowChange)
    assert (change.state, change.merge_sha, change.merged_at) == ("open", None, None)


def test_pipeline_and_job_are_separate_runs(app, engine):
    deliver(app, ("Pipeline Hook", fixture("go-gitlab/pipeline.json")), ("Job Hook", fixture("go-gitlab/job.json")))
    runs = {run.id: run for run in all_rows(engine, FlowPipelineRun)}
    # The pipeline's own `builds` become jobs too (tests/plugins/test_gitlab_normalize.py).
    assert set(runs) == {"gitlab:gitlab-org/gitlab-test:pipeline:31",
                         "gitlab:jsmithy2/release-tools-fake:job:3580121225",
                         *(f"gitlab:gitlab-org/gitlab-test:job:{n}" for n in range(376, 381))}
    pipeline = runs["gitlab:gitlab-org/gitlab-test:pipeline:31"]
    assert (pipeline.status, pipeline.ref, pipeline.sha) == (
        "success", "master", "bcbb5ec396a2c0f828686f14fac9b80b780504f2")
    assert pipeline.started_at == at("2016-08-12T15:23:28+00:00")
    assert pipeline.finished_at == at("2016-08-12T15:26:29+00:00")
    assert pipeline.link_value == "gitlab-org/gitlab-test"
    job = runs["gitlab:jsmithy2/release-tools-fake:job:3580121225"]
    # This Job Hook has no project object: the project comes from the repository's homepage.
    assert (job.name, job.status, job.ref, job.repository) == (
        "auto_deploy:start", "success", "main", "jsmithy2/release-tools-fake")
    assert job.started_at == at("2023-01-10T13:50:05+00:00")
    assert job.finished_at == at("2023-01-10T13:50:54+00:00")
    assert job.url == "https://gitlab.com/jsmithy2/release-tools-fake/-/jobs/3580121225"


def pipeline_row(engine) -> FlowPipelineRun:
    [run] = [run for run in all_rows(engine, FlowPipelineRun) if ":pipeline:" in run.id]
    return run


def pipeline_with(status: str, finished_at: str | None) -> dict:
    payload = fixture("go-gitlab/pipeline.json")
    payload["object_attributes"].update({"status": status, "finished_at": finished_at})
    return payload


@pytest.mark.parametrize(("status", "expected"), [("failed", "failure"), ("canceled", "cancelled"),
                                                  ("pending", "queued"), ("created", "queued")])
def test_pipeline_statuses(app, engine, status, expected):
    finished = "2016-08-12 15:30:00 UTC" if expected in ("failure", "cancelled") else None
    deliver(app, ("Pipeline Hook", pipeline_with(status, finished)))
    run = pipeline_row(engine)
    assert run.status == expected
    assert run.finished_at == (at("2016-08-12T15:30:00+00:00") if finished else None)


def test_running_then_finished_pipeline_ends_finished(app, engine):
    deliver(app, ("Pipeline Hook", pipeline_with("running", None)),
            ("Pipeline Hook", pipeline_with("success", "2016-08-12 15:26:29 UTC")))
    run = pipeline_row(engine)
    assert (run.status, run.finished_at) == ("success", at("2016-08-12T15:26:29+00:00"))


def test_deployment_hook(app, engine):
    deliver(app, ("Deployment Hook", fixture("go-gitlab/deployment.json")))
    [deployment] = all_rows(engine, FlowDeployment)
    assert deployment.id == "gitlab:root/test-deployment-webhooks:deployment:15"
    assert (deployment.environment, deployment.tier, deployment.status) == ("staging", "staging", "success")
    # The full sha comes from commit_url; the hook itself only has the short one.
    assert deployment.sha == "279484c09fbe69ededfced8c1bb6e6d24616b468"
    assert deployment.ref == "1.0.0"
    assert deployment.finished_at == at("2021-04-28T19:50:00+00:00")
    assert deployment.started_at == at("2021-04-28T19:50:00+00:00")  # only the finish was seen
    assert deployment.url == "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796"
    assert deployment.link_value == "root/test-deployment-webhooks"


def deployment_hook(status: str, changed: str, **extra) -> dict:
    payload = fixture("go-gitlab/deployment.json")
    payload.update({"status": status, "status_changed_at": changed, **extra})
    return payload


def test_deployment_running_then_failed_prefers_gitlabs_own_tier(app, engine):
    extra = {"environment": "eu-live-2", "environment_tier": "production"}
    deliver(app, ("Deployment Hook", deployment_hook("running", "2021-04-28 21:40:00 +0200", **extra)),
            ("Deployment Hook", deployment_hook("failed", "2021-04-28 21:45:00 +0200", **extra)))
    [deployment] = all_rows(engine, FlowDeployment)
    assert (deployment.environment, deployment.tier, deployment.status) == ("eu-live-2", "production", "failure")
    assert deployment.started_at == at("2021-04-28T19:40:00+00:00")
    assert deployment.finished_at == at("2021-04-28T19:45:00+00:00")


def test_deployment_without_declared_tier_guesses_from_the_name(app, engine):
    deliver(app, ("Deployment Hook", deployment_hook("created", "2021-04-28 21:40:00 +0200",
                                                     environment="prod-eu", short_sha="279484c0",
                                                     commit_url=None)))
    [deployment] = all_rows(engine, FlowDeployment)
    assert (deployment.tier, deployment.status, deployment.sha) == ("production", "pending", "279484c0")
    assert deployment.finished_at is None


def test_issue_opened_gives_a_work_item_and_its_first_transition(app, engine):
    deliver(app, ("Issue Hook", fixture("go-gitlab/issue.json")))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.id, item.key, item.title) == (
        "gitlab:gitlabhq/gitlab-test#23", "gitlabhq/gitlab-test#23", "New API: create/update/delete file")
    assert (item.status, item.status_category, item.item_type, item.deleted) == ("open", "todo", "issue", False)
    assert item.created_at == at("2013-12-03T17:15:43+00:00")
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert (transition.work_item_id, transition.from_status, transition.to_status, transition.author) == (
        "gitlab:gitlabhq/gitlab-test#23", None, "open", "root")
    assert transition.at == at("2013-12-03T17:15:43+00:00")


def test_issue_closed_uses_the_state_change_gitlab_reports(app, engine):
    deliver(app, ("Issue Hook", fixture("go-scm/issue_closed.json")))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.status_category) == ("closed", "done")
    assert item.resolved_at == at("2017-12-10T16:41:28+00:00")
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert (transition.from_status, transition.to_status, transition.author) == ("open", "closed", "sytses")
    assert transition.at == at("2017-12-10T16:41:28+00:00")


def test_issue_reopened_from_state_ids(app, engine):
    payload = fixture("go-scm/issue_closed.json")
    payload["object_attributes"].update({"state": "opened", "action": "reopen", "closed_at": None,
                                         "updated_at": "2017-12-11 08:00:00 UTC"})
    payload["changes"] = {"state_id": {"previous": 2, "current": 1}}
    deliver(app, ("Issue Hook", fixture("go-scm/issue_closed.json")), ("Issue Hook", payload))
    [item] = all_rows(engine, FlowWorkItem)
    assert item.status == "open"
    transitions = sorted(all_rows(engine, FlowWorkItemTransition), key=lambda t: t.at)
    assert [(t.from_status, t.to_status) for t in transitions] == [("open", "closed"), ("closed", "open")]
    assert transitions[1].at == at("2017-12-11T08:00:00+00:00")


def test_push_hooks_give_commits_and_nothing_else(app, engine):
    report = deliver(app, ("Push Hook", fixture("go-gitlab/push.json")),
                     ("Push Hook", fixture("jira-to-matrix/push-event.json")))
    assert (report.processed, report.failed, report.records) == (2, 0, 3)  # 2 + 1 pushed commits
    assert {row.status for row in all_rows(engine, WebhookDelivery)} == {"processed"}
    for model in (FlowChange, FlowPipelineRun, FlowDeployment, FlowWorkItem):
        assert all_rows(engine, model) == []


@pytest.mark.parametrize("payload", [
    {}, [], {"object_kind": "merge_request"}, {"object_kind": "note", "project": {"path_with_namespace": "a/b"}},
    {"object_kind": "release", "action": "create", "project": {"path_with_namespace": "a/b"}},  # no tag
])
def test_unknown_or_projectless_payloads_give_nothing(payload):
    assert normalize_event(payload) == []


def test_a_minimal_merge_request_gives_a_record_with_unknowns():
    [record] = normalize_event({"object_kind": "merge_request", "project": {"path_with_namespace": "A/B"},
                                "object_attributes": {"iid": 4}})
    assert record.values["id"] == "gitlab:A/B!4"
    assert record.values["link_value"] == "a/b"
    assert (record.values["state"], record.values["title"], record.values["created_at"]) == ("open", None, None)
