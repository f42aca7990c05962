"""CDEvents plugin: CloudEvents in binary or structured mode, signed with Standard Webhooks."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from flowport_cdevents.normalize import normalize_event
from portal.plugins.contract import (
    ConnectionConfig,
    DeliveryInfo,
    FlowPlugin,
    InboxEvent,
    WebhookRejected,
    WebhookRequest,
)
from portal.webhooks.signatures import verify_standard_webhook

STRUCTURED = "application/cloudevents+json"
# CDEvents subjects (and predicates) Flowport turns into flow records.
USED_SUBJECTS = ("change", "pipelinerun", "service.deployed", "service.upgraded", "service.rolledback",
                 "incident", "ticket")


def _is_used(event_type: str) -> bool:
    # dev.cdevents.<subject>.<predicate>.<version>
    parts = event_type.split(".")
    if len(parts) < 4 or parts[:2] != ["dev", "cdevents"]:
        return False
    subject, predicate = parts[2], parts[3]
    return subject in USED_SUBJECTS or f"{subject}.{predicate}" in USED_SUBJECTS


class CDEventsPlugin(FlowPlugin):
    name: ClassVar[str] = "cdevents"
    title: ClassVar[str] = "CDEvents"
    config_model = ConnectionConfig
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
            context = payload.get("context") or {}
            source, event_id, event_type = context.get("source"), context.get("id"), context.get("type")
        if not source or not event_id or not event_type:
            raise WebhookRejected(400, "a CloudEvent needs id, source and type (ce-* headers in binary mode, "
                                       "fields in structured mode, or the CDEvent context)")
        # CloudEvents are unique by source + id; webhook-id only names one HTTP attempt series.
        delivery_id = json.dumps([source, event_id])[:300]
        return DeliveryInfo(delivery_id=delivery_id, event_type=event_type, used=_is_used(event_type))

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.payload, event.connection, event.event_type)
