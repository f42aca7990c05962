"""CDEvents plugin: CloudEvents in binary or structured mode, signed with Standard Webhooks, and pull
sync from an event feed when the connection has a `feed_url`."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr, field_validator

from flowport_cdevents.normalize import is_used, normalize_event
from flowport_cdevents.sync import sync_cdevents
from portal.plugins.contract import (
    ConnectionConfig,
    DeliveryInfo,
    FlowPlugin,
    InboxEvent,
    SyncNotSupported,
    WebhookRejected,
    WebhookRequest,
)
from portal.webhooks.signatures import verify_standard_webhook

STRUCTURED = "application/cloudevents+json"


class CDEventsConfig(ConnectionConfig):
    """A CDEvents source: webhooks always; pull sync too when an event feed is configured."""

    # GET answers recent CloudEvents (JSON array or application/cloudevents-batch+json); see sync.py.
    feed_url: str | None = None
    token: SecretStr | None = None

    @field_validator("feed_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        try:
            host = httpx.URL(value).host if value.startswith(("http://", "https://")) else ""
        except httpx.InvalidURL:
            host = ""
        if not host:
            raise ValueError(f"{value!r} is not an http(s) URL; give the feed's full address, "
                             "e.g. https://events.example.com/cdevents")
        return value


class CDEventsPlugin(FlowPlugin):
    name: ClassVar[str] = "cdevents"
    title: ClassVar[str] = "CDEvents"
    config_model = CDEventsConfig
    webhook_content_types = ("application/json", STRUCTURED)

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_standard_webhook(secrets, request.headers, request.body))

    def parse_webhook(self, request: WebhookRequest) -> Any:
        payload = super().parse_webhook(request)
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "a CDEvent must be a JSON object")
        return payload

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        headers = request.headers
        if request.content_type == STRUCTURED:
            source, event_id, event_type = payload.get("source"), payload.get("id"), payload.get("type")
        elif headers.get("ce-id"):
            source, event_id, event_type = headers.get("ce-source"), headers.get("ce-id"), headers.get("ce-type")
        else:
            context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
            source, event_id, event_type = context.get("source"), context.get("id"), context.get("type")
        if not source or not event_id or not event_type:
            raise WebhookRejected(400, "a CloudEvent needs id, source and type (ce-* headers in binary mode, "
                                       "fields in structured mode, or the CDEvent context)")
        # CloudEvents are unique by source + id; webhook-id only names one HTTP attempt series.
        delivery_id = json.dumps([source, event_id])[:300]
        return DeliveryInfo(delivery_id=delivery_id, event_type=event_type, used=is_used(event_type))

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.payload, event.connection, event.event_type)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        if not self.config.feed_url:
            raise SyncNotSupported(
                f"CDEvents connection {self.config.name!r} has no feed to pull from: set feed_url "
                "(FLOWPORT_CDEVENTS_FEED_URL, or on the Connections admin page) to sync; webhooks work without it")
        return sync_cdevents(self, client, state, full)
