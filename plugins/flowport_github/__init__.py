"""GitHub plugin: webhook verification, filing and normalization, and REST pull sync."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs

from pydantic import Field, SecretStr

from flowport_github.normalize import LINK_ANNOTATION, normalize_event
from flowport_github.sync import sync_github
from portal.plugins.contract import (
    ConnectionConfig,
    DeliveryInfo,
    FlowPlugin,
    InboxEvent,
    WebhookRejected,
    WebhookRequest,
)
from portal.sync.scope import scope_field
from portal.webhooks.payloads import load_json_object, optional_text
from portal.webhooks.signatures import verify_hub_signature

# Events Flowport turns into flow records; anything else is filed as `ignored`.
USED_EVENTS = frozenset({
    "pull_request", "push", "deployment", "deployment_status", "workflow_run",
    "check_suite", "issues", "release", "ping",
})

# Which linked values this connection syncs (portal/sync/scope.py).
Repositories = scope_field(LINK_ANNOTATION, "repository", r"[\w*?.-]+/[\w*?.-]+", "octo-org/api or octo-org/*")


class GitHubConfig(ConnectionConfig):
    """A GitHub (or GitHub Enterprise) connection."""

    api_url: str = "https://api.github.com"
    token: SecretStr | None = None
    # With two connections (github.com and an Enterprise host), each syncs only its own repositories.
    repositories: Repositories
    # Finished deployments are re-read this many days after they finished: a later status (a success
    # marked failed) changes their outcome. 0 reads each deployment's statuses until it finishes only.
    deployment_lookback_days: int = Field(default=7, ge=0, le=90)


class GitHubPlugin(FlowPlugin):
    name: ClassVar[str] = "github"
    title: ClassVar[str] = "GitHub"
    config_model = GitHubConfig
    webhook_content_types = ("application/json", "application/x-www-form-urlencoded")

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_hub_signature(
            secrets, request.body, request.headers.get("x-hub-signature-256"), "X-Hub-Signature-256"))

    def parse_webhook(self, request: WebhookRequest) -> Any:
        body = request.body
        if request.content_type == "application/x-www-form-urlencoded":
            # GitHub's form encoding puts the JSON document in a `payload` field.
            fields = parse_qs(body.decode("utf-8", errors="replace"))
            if "payload" not in fields:
                raise WebhookRejected(400, "form-encoded GitHub delivery has no payload field")
            body = fields["payload"][0].encode()
        return load_json_object(body)

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        delivery_id = request.headers.get("x-github-delivery")
        event = request.headers.get("x-github-event")
        if not delivery_id or not event:
            raise WebhookRejected(400, "GitHub deliveries carry X-GitHub-Delivery and X-GitHub-Event headers")
        action = optional_text(payload, "action", "")
        event_type = f"{event}.{action}" if action else event
        return DeliveryInfo(delivery_id=delivery_id, event_type=event_type, used=event in USED_EVENTS)

    def normalize(self, event: InboxEvent) -> list:
        event_name = event.headers.get("x-github-event") or event.event_type.split(".")[0]
        return normalize_event(event_name, event.payload, event.connection)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        return sync_github(self.config, client, state, full)

    def actions(self) -> list:
        from flowport_github.actions import github_actions

        return github_actions()
