"""Deliveries of real published payloads, signed the way each tool signs them, for intake tests."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable

from portal.webhooks.signatures import sign_standard_webhook
from tests.conftest import FIXTURES

WHSEC = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
SECRETS = {"GITHUB": "gh-secret", "GITLAB": "gl-token", "JIRA": "jira-secret", "PAGERDUTY": "pd-secret",
           "CDEVENTS": WHSEC}

# One real payload per tool (see the shared fixtures' SOURCES.md).
PAYLOADS = {
    "github": FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json",
    "gitlab": FIXTURES / "gitlab/go-gitlab/merge_request.json",
    "jira": FIXTURES / "jira/jira-to-matrix/issue/created.json",
    "pagerduty": FIXTURES / "pagerduty/zulip-fixtures/triggered_v3.json",
    "cdevents": FIXTURES / "cdevents/spec-v0.5.1/pipelinerun_finished.json",
}


def configure_secrets(monkeypatch) -> None:  # noqa: ANN001
    """Every first-party tool's default connection, with the secrets the helpers below sign with."""
    for name, secret in SECRETS.items():
        monkeypatch.setenv(f"FLOWPORT_{name}_WEBHOOK_SECRET", secret)


def _hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def github(body: bytes, delivery: str | None = None, event: str = "pull_request") -> dict:
    return {"Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + _hex(SECRETS["GITHUB"], body)}


def gitlab(body: bytes, delivery: str | None = None, event: str = "Merge Request Hook") -> dict:
    return {"Content-Type": "application/json", "X-Gitlab-Event": event, "X-Gitlab-Token": SECRETS["GITLAB"],
            "Idempotency-Key": delivery or str(uuid.uuid4())}


def jira(body: bytes, delivery: str | None = None) -> dict:
    return {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
            "X-Hub-Signature": "sha256=" + _hex(SECRETS["JIRA"], body)}


def pagerduty(body: bytes, delivery: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": "v1=" + _hex(SECRETS["PAGERDUTY"], body)}
    return {**headers, "X-Webhook-Id": delivery} if delivery else headers


def cdevents(body: bytes, delivery: str | None = None) -> dict:
    """A bare CDEvent (its context names it), signed with Standard Webhooks."""
    message_id, at = delivery or str(uuid.uuid4()), int(time.time())
    return {"Content-Type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(at),
            "webhook-signature": sign_standard_webhook(WHSEC, message_id, at, body)}


SIGNERS: dict[str, Callable[..., dict]] = {"github": github, "gitlab": gitlab, "jira": jira,
                                           "pagerduty": pagerduty, "cdevents": cdevents}
