"""CDEvents plugin: CloudEvents in binary or structured mode, signed with Standard Webhooks, and pull
sync from an event feed when the connection has a `feed_url`."""

from __future__ import annotations

import hashlib
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
from portal.webhooks.payloads import DELIVERY_ID_MAX, optional_text
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


def cloud_event_key(source: str, event_id: str) -> str:
    """The inbox delivery id of a CloudEvent: they are unique by source + id (webhook-id only names one
    HTTP attempt series). Longer than the column, it is a digest of both, so two events never collide."""
    key = json.dumps([source, event_id])
    if len(key) <= DELIVERY_ID_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class CDEventsPlugin(FlowPlugin):
    name: ClassVar[str] = "cdevents"
    title: ClassVar[str] = "CDEvents"
    config_model = CDEventsConfig
    webhook_content_types = ("application/json", STRUCTURED)

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_standard_webhook(secrets, request.headers, request.body))

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        headers = request.headers
        if request.content_type == STRUCTURED:
            source, event_id, event_type = (optional_text(payload, key, "") for key in ("source", "id", "type"))
        elif headers.get("ce-id"):
            source, event_id, event_type = headers.get("ce-source"), headers.get("ce-id"), headers.get("ce-type")
        else:
            context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
            source, event_id, event_type = (optional_text(context, key, "context.") for key in ("source", "id", "type"))
        if not source or not event_id or not event_type:
            raise WebhookRejected(400, "a CloudEvent needs id, source and type (ce-* headers in binary mode, "
                                       "fields in structured mode, or the CDEvent context)")
        return DeliveryInfo(delivery_id=cloud_event_key(source, event_id), event_type=event_type,
                            used=is_used(event_type))

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.payload, event.connection, event.event_type)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        if not self.config.feed_url:
            raise SyncNotSupported(
                f"CDEvents connection {self.config.name!r} has no feed to pull from: set feed_url "
                "(FLOWPORT_CDEVENTS_FEED_URL, or on the Connections admin page) to sync; webhooks work without it")
        return sync_cdevents(self, client, state, full)
