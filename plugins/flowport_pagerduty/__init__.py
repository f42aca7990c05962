"""PagerDuty plugin: v3 webhook verification, filing and normalization, and pull sync."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from flowport_pagerduty.normalize import LINK_ANNOTATION, normalize_event
from flowport_pagerduty.sync import sync_pagerduty
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
from portal.webhooks.signatures import verify_pagerduty

# Every incident.* event carries the incident as it is after the event, so every one updates it.
USED_EVENT_PREFIX = "incident."

# Which linked values this connection syncs (portal/sync/scope.py).
ServiceIds = scope_field(LINK_ANNOTATION, "service id", r"[A-Za-z0-9*?]+", "PSHIP01")


class PagerDutyConfig(ConnectionConfig):
    """A PagerDuty account (REST API v2 token for sync)."""

    api_url: str = "https://api.pagerduty.com"
    token: SecretStr | None = None
    services: ServiceIds


class PagerDutyPlugin(FlowPlugin):
    name: ClassVar[str] = "pagerduty"
    title: ClassVar[str] = "PagerDuty"
    config_model = PagerDutyConfig

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_pagerduty(
            secrets, request.body, request.headers.get("x-pagerduty-signature")))

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        event = payload.get("event")
        if not isinstance(event, dict) or not optional_text(event, "event_type", "event."):
            raise WebhookRejected(400, "PagerDuty v3 payloads have an event object with an event_type")
        # X-Webhook-Id names the delivery; the event id is the fallback for hand-replayed payloads.
        delivery_id = request.headers.get("x-webhook-id") or optional_text(event, "id", "event.")
        if not delivery_id:
            raise WebhookRejected(400, "PagerDuty delivery has neither X-Webhook-Id nor event.id")
        event_type = event["event_type"]
        used = event_type.startswith(USED_EVENT_PREFIX)
        return DeliveryInfo(delivery_id=delivery_id, event_type=event_type, used=used)

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.payload, event.connection)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        return sync_pagerduty(self.config, client, state, full)
