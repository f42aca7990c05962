"""Jira plugin: webhook verification, filing and normalization, and pull sync."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from flowport_jira.normalize import LINK_ANNOTATION, normalize_event
from flowport_jira.sync import sync_jira
from portal.plugins.contract import (
    ConnectionConfig,
    DeliveryInfo,
    FlowPlugin,
    InboxEvent,
    WebhookRejected,
    WebhookRequest,
)
from portal.sync.scope import scope_field
from portal.webhooks.payloads import optional_text
from portal.webhooks.signatures import verify_hub_signature

USED_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})

# Which linked values this connection syncs (portal/sync/scope.py).
ProjectKeys = scope_field(LINK_ANNOTATION, "project key", r"[A-Za-z*?][\w*?]*", "SHIP or OPS*")


class JiraConfig(ConnectionConfig):
    """A Jira Cloud or Data Center site."""

    site_url: str = "https://your-site.atlassian.net"
    email: str | None = None
    token: SecretStr | None = None
    projects: ProjectKeys


class JiraPlugin(FlowPlugin):
    name: ClassVar[str] = "jira"
    title: ClassVar[str] = "Jira"
    config_model = JiraConfig

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_hub_signature(
            secrets, request.body, request.headers.get("x-hub-signature"), "X-Hub-Signature"))

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        delivery_id = request.headers.get("x-atlassian-webhook-identifier")
        if not delivery_id:
            raise WebhookRejected(400, "Jira deliveries carry an X-Atlassian-Webhook-Identifier header")
        event = optional_text(payload, "webhookEvent", "")
        if not event:
            raise WebhookRejected(400, "Jira payload has no webhookEvent")
        return DeliveryInfo(delivery_id=delivery_id, event_type=event, used=event in USED_EVENTS)

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.event_type, event.payload, event.connection)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        return sync_jira(self.config, client, state, full)
