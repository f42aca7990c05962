"""GitLab plugin: webhook verification, filing and normalization, and pull sync."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from flowport_gitlab.normalize import LINK_ANNOTATION, normalize_event
from flowport_gitlab.sync import sync_gitlab
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
from portal.webhooks.signatures import verify_token

USED_EVENTS = frozenset({
    "Merge Request Hook", "Push Hook", "Pipeline Hook", "Job Hook", "Deployment Hook",
    "Issue Hook", "Release Hook",
    # Confidential issues (incidents often are) come under their own event name with the same payload.
    "Confidential Issue Hook",
})

# Which linked values this connection syncs (portal/sync/scope.py).
Projects = scope_field(LINK_ANNOTATION, "project", r"[\w*?.-]+(/[\w*?.-]+)+", "my-group/api or my-group/**")


class GitLabConfig(ConnectionConfig):
    """A GitLab.com or self-managed GitLab connection."""

    api_url: str = "https://gitlab.com/api/v4"
    token: SecretStr | None = None
    # Group/project paths; groups nest, so `my-group/**` covers every subgroup.
    repositories: Projects


class GitLabPlugin(FlowPlugin):
    name: ClassVar[str] = "gitlab"
    title: ClassVar[str] = "GitLab"
    config_model = GitLabConfig

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.check_secrets(lambda secrets: verify_token(secrets, request.headers.get("x-gitlab-token"), "X-Gitlab-Token"))

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        # Idempotency-Key is stable across GitLab's retries; the event UUID identifies the event.
        delivery_id = request.headers.get("idempotency-key") or request.headers.get("x-gitlab-event-uuid")
        event = request.headers.get("x-gitlab-event")
        if not delivery_id or not event:
            raise WebhookRejected(400, "GitLab deliveries carry X-Gitlab-Event and Idempotency-Key "
                                       "(or X-Gitlab-Event-UUID) headers")
        kind = optional_text(payload, "object_kind", "")
        attributes = payload.get("object_attributes") or {}
        if not isinstance(attributes, dict):
            raise WebhookRejected(400, "object_attributes must be an object")
        # Most hooks put the action in object_attributes; Release Hooks at the top level.
        action = optional_text(attributes, "action", "object_attributes.") or optional_text(payload, "action", "")
        event_type = ".".join(part for part in (kind or event, action) if part)
        return DeliveryInfo(delivery_id=delivery_id, event_type=event_type, used=event in USED_EVENTS)

    def normalize(self, event: InboxEvent) -> list:
        return normalize_event(event.payload, event.connection)

    def sync(self, client, state, full):  # noqa: ANN001, ANN201 - types are in the contract
        return sync_gitlab(self.config, client, state, full)

    def actions(self) -> list:
        from flowport_gitlab.actions import gitlab_actions

        return gitlab_actions()
