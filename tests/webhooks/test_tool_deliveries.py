"""Real published payloads from each tool, signed the way that tool signs, through /webhooks/{source}."""

import hashlib
import hmac
import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.app import create_app
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.signatures import sign_standard_webhook
from tests.conftest import FIXTURES

WHSEC = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@pytest.fixture
def client(settings, monkeypatch):
    for name, secret in {"GITLAB": "gl-token", "JIRA": "jira-secret", "PAGERDUTY": "pd-old,pd-new",
                         "CDEVENTS": WHSEC}.items():
        monkeypatch.setenv(f"FLOWPORT_{name}_WEBHOOK_SECRET", secret)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def rows(engine):
    with Session(engine) as session:
        return session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()


def hexmac(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_gitlab_merge_request_hook(client, engine):
    body = (FIXTURES / "gitlab/go-gitlab/merge_request.json").read_bytes()
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Merge Request Hook",
               "X-Gitlab-Token": "gl-token", "Idempotency-Key": "gl-1"}
    assert client.post("/webhooks/gitlab", content=body, headers=headers).status_code == 202
    assert client.post("/webhooks/gitlab", content=body, headers=headers).json()["status"] == "duplicate"
    wrong = client.post("/webhooks/gitlab", content=body, headers={**headers, "X-Gitlab-Token": "nope"})
    assert wrong.status_code == 401
    [row] = rows(engine)
    assert row.event_type.startswith("merge_request")
    assert row.status == "pending"


def test_jira_issue_created(client, engine):
    body = (FIXTURES / "jira/jira-to-matrix/issue/created.json").read_bytes()
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": "jira-77",
               "X-Hub-Signature": "sha256=" + hexmac("jira-secret", body)}
    response = client.post("/webhooks/jira", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["eventType"] == "jira:issue_created"


def test_jira_comment_events_are_ignored_but_kept(client, engine):
    body = (FIXTURES / "jira/jira-to-matrix/comment/created.json").read_bytes()
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": "jira-78",
               "X-Hub-Signature": "sha256=" + hexmac("jira-secret", body)}
    response = client.post("/webhooks/jira", content=body, headers=headers)
    assert response.json()["status"] == "ignored"
    assert rows(engine)[0].status == "ignored"


def test_pagerduty_v3_with_rotated_keys(client, engine):
    body = (FIXTURES / "pagerduty/zulip-fixtures/triggered_v3.json").read_bytes()
    signature = f"v1={hexmac('pd-old', body)},v1={hexmac('pd-new', body)}"
    headers = {"Content-Type": "application/json", "X-Webhook-Id": "pd-1", "X-PagerDuty-Signature": signature}
    response = client.post("/webhooks/pagerduty", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json()["eventType"] == "incident.triggered"


def cdevent_headers(body: bytes, message_id: str = "msg-1", at: int | None = None) -> dict:
    at = at or int(time.time())
    return {"webhook-id": message_id, "webhook-timestamp": str(at),
            "webhook-signature": sign_standard_webhook(WHSEC, message_id, at, body)}


@pytest.mark.parametrize("fixture", ["spec-v0.5.1/pipelinerun_finished.json", "spec-v0.3.0/service_upgraded.json"])
def test_cdevents_binary_mode(client, engine, fixture):
    body = (FIXTURES / "cdevents" / fixture).read_bytes()
    context = json.loads(body)["context"]
    headers = {"Content-Type": "application/json", "ce-id": context["id"], "ce-source": context["source"],
               "ce-type": context["type"], "ce-specversion": "1.0", **cdevent_headers(body)}
    response = client.post("/webhooks/cdevents", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    assert response.json()["eventType"] == context["type"]


def test_cdevents_structured_mode_and_replay_window(client, engine):
    event = json.loads((FIXTURES / "cdevents/spec-v0.5.1/artifact_packaged.json").read_bytes())
    cloud_event = {"specversion": "1.0", "id": event["context"]["id"], "source": event["context"]["source"],
                   "type": event["context"]["type"], "datacontenttype": "application/json", "data": event}
    body = json.dumps(cloud_event).encode()
    headers = {"Content-Type": "application/cloudevents+json", **cdevent_headers(body)}
    response = client.post("/webhooks/cdevents", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"  # artifact events are not flow records
    stale = {"Content-Type": "application/cloudevents+json",
             **cdevent_headers(body, "msg-2", int(time.time()) - 600)}
    rejected = client.post("/webhooks/cdevents", content=body, headers=stale)
    assert rejected.status_code == 401
    assert "5 minutes" in rejected.json()["reason"]
