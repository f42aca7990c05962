"""From inbox to flow records: normalizing real GitHub deliveries, retries, parking and replay."""

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from portal.app import create_app
from portal.flow.models import FlowChange, FlowDeployment, FlowPipelineRun, FlowWorkItem, FlowWorkItemTransition
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows

SECRET = "proc-secret"
GITHUB = FIXTURES / "github"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


def deliver(client, path, event: str) -> None:
    body = (GITHUB / path).read_bytes()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202



def test_github_deliveries_become_flow_records(app, engine):
    with TestClient(app) as client:
        deliver(client, "octokit-webhooks/pull_request/opened.payload.json", "pull_request")
        deliver(client, "octokit-webhooks/deployment/payload.json", "deployment")
        deliver(client, "octokit-webhooks/deployment_status/payload.json", "deployment_status")
        deliver(client, "octokit-webhooks/workflow_run/completed.payload.json", "workflow_run")
        deliver(client, "octokit-webhooks/issues/opened.payload.json", "issues")
        deliver(client, "octokit-webhooks/ping/payload.json", "ping")
    report = processing.process_all(engine, app.state.plugins)
    assert (report.claimed, report.processed, report.failed) == (6, 6, 0)

    [change] = all_rows(engine, FlowChange)
    assert (change.repository, change.number, change.state, change.author) == ("Codertocat/Hello-World", 2, "open", "Codertocat")
    assert change.merge_sha is None  # an open PR's merge_commit_sha is only a test merge
    assert change.link_value == "codertocat/hello-world"

    [deployment] = all_rows(engine, FlowDeployment)
    assert (deployment.environment, deployment.tier, deployment.status) == ("production", "production", "success")
    assert deployment.sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert deployment.finished_at is not None

    [run] = all_rows(engine, FlowPipelineRun)
    assert (run.status, run.sha) == ("success", "3484a3fb816e0859fd6e1cea078d76385ff50625")

    [issue] = all_rows(engine, FlowWorkItem)
    assert issue.status_category == "todo"
    assert [t.to_status for t in all_rows(engine, FlowWorkItemTransition)] == ["open"]

    statuses = {row.status for row in all_rows(engine, WebhookDelivery)}
    assert statuses == {"processed"}


def test_a_merged_pr_records_its_merge_sha_and_replay_changes_nothing(app, engine):
    with TestClient(app) as client:
        deliver(client, "robvanderleek-create-issue-branch/pull_request.closed.json", "pull_request")
    processing.process_all(engine, app.state.plugins)
    before = [(c.id, c.state, c.merge_sha, c.merged_at) for c in all_rows(engine, FlowChange)]
    with Session(engine) as session:
        assert processing.replay(session, since=datetime.now(UTC) - timedelta(hours=1)) == 1
        session.commit()
    assert processing.process_all(engine, app.state.plugins).processed == 1
    after = [(c.id, c.state, c.merge_sha, c.merged_at) for c in all_rows(engine, FlowChange)]
    assert after == before


def test_an_older_event_never_overwrites_a_newer_one(app, engine):
    with TestClient(app) as client:
        deliver(client, "octokit-webhooks/deployment_status/payload.json", "deployment_status")
        deliver(client, "octokit-webhooks/deployment/payload.json", "deployment")
    processing.process_all(engine, app.state.plugins)
    [deployment] = all_rows(engine, FlowDeployment)
    assert deployment.status == "success"


def test_a_failing_normalizer_retries_with_backoff_then_parks(app, engine, monkeypatch):
    with TestClient(app) as client:
        deliver(client, "octokit-webhooks/pull_request/opened.payload.json", "pull_request")
    plugin = app.state.plugins.connection("github")

    def broken(event):
        raise KeyError("pull_request")

    monkeypatch.setattr(plugin, "normalize", broken)
    first = processing.process_all(engine, app.state.plugins)
    assert (first.failed, first.processed) == (1, 0)
    [row] = all_rows(engine, WebhookDelivery)
    assert row.status == "failed" and row.attempts == 1 and "KeyError" in row.last_error
    assert row.next_attempt_at > datetime.now(UTC)
    # Not due yet: a second pass right away leaves it alone.
    assert processing.process_all(engine, app.state.plugins).claimed == 0

    for _ in range(processing.MAX_ATTEMPTS - 1):
        with Session(engine) as session:
            session.execute(update(WebhookDelivery).values(next_attempt_at=None))
            session.commit()
        processing.process_all(engine, app.state.plugins)
    [row] = all_rows(engine, WebhookDelivery)
    assert (row.status, row.attempts) == ("parked", processing.MAX_ATTEMPTS)

    monkeypatch.undo()
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    with Session(engine) as session:
        assert processing.replay(session, delivery_id=row.id) == 1
        session.commit()
    assert processing.process_all(engine, app.state.plugins).processed == 1
    assert len(all_rows(engine, FlowChange)) == 1


def test_backoff_grows_and_stays_bounded():
    delays = [processing.backoff_delay(n).total_seconds() for n in (1, 2, 5, 30)]
    assert 2.5 <= delays[0] <= 5
    assert 5 <= delays[1] <= 10
    assert 40 <= delays[2] <= 80
    assert delays[3] <= processing.MAX_BACKOFF_SECONDS
