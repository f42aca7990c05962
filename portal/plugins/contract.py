"""The whole plugin contract. A plugin is a FlowPlugin subclass published in the
`flowport.plugins` entry-point group; the portal builds one fresh instance per configured connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

if TYPE_CHECKING:
    from portal.scaffolder.actions.contract import Action
    from portal.sync.client import SyncClient
    from portal.sync.state import SyncPage, SyncState


class ConnectionConfig(BaseModel):
    """Typed settings of one connection to a tool; plugins extend it with their own fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    # Several secrets are accepted at once so a tool's key can be rotated without lost deliveries.
    webhook_secrets: list[SecretStr] = Field(default_factory=list)

    def secret_values(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.webhook_secrets]


@dataclass(frozen=True)
class WebhookRequest:
    """What arrived at /webhooks/{source}: lower-cased headers and the raw body."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str


@dataclass(frozen=True)
class DeliveryInfo:
    """How the portal files a delivery: the tool's id for it, its event type, and whether it is used."""

    delivery_id: str
    event_type: str
    used: bool = True


@dataclass(frozen=True)
class InboxEvent:
    """A stored delivery handed to a normalizer: its event type, kept headers and decoded payload."""

    source: str
    connection: str
    event_type: str
    headers: Mapping[str, str]
    payload: Any


class SyncNotSupported(Exception):
    """The plugin has no pull sync (plugins that can pull override FlowPlugin.sync)."""


class WebhookRejected(Exception):
    """A delivery the tool must be told about: `status` (4xx) and a reason for its delivery log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class FlowPlugin:
    """Base class of every plugin; override the hooks the tool supports."""

    name: ClassVar[str]
    title: ClassVar[str]
    config_model: ClassVar[type[ConnectionConfig]] = ConnectionConfig
    # Media types the webhook endpoint accepts for this tool.
    webhook_content_types: ClassVar[tuple[str, ...]] = ("application/json",)

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected(401, reason) unless the delivery is authentic."""
        raise WebhookRejected(404, f"{self.title} does not accept webhooks")

    def check_secrets(self, check: Callable[[list[str]], None]) -> None:
        """Run a signature check (portal.webhooks.signatures) with this connection's secrets; any failure is a 401."""
        from portal.webhooks.signatures import SignatureError

        secrets = self.config.secret_values()
        if not secrets:
            raise WebhookRejected(401, f"no webhook secret is configured for this {self.title} connection")
        try:
            check(secrets)
        except SignatureError as error:
            raise WebhookRejected(401, str(error)) from error

    def parse_webhook(self, request: WebhookRequest) -> Any:
        """Decode the body into the payload; raise WebhookRejected(400, reason) when it cannot be read.
        The default reads a JSON object nested at most 64 deep (portal.webhooks.payloads)."""
        from portal.webhooks.payloads import load_json_object

        return load_json_object(request.body)

    def describe_delivery(self, request: WebhookRequest, payload: Any) -> DeliveryInfo:
        """The delivery id (for idempotency), the event type, and whether Flowport uses this event.
        Raise WebhookRejected(400, reason) for a payload that lacks them; the intake then refuses ids and
        types that are not printable strings within their inbox columns (300 and 200 characters)."""
        raise WebhookRejected(404, f"{self.title} does not accept webhooks")

    def normalize(self, event: InboxEvent) -> list:
        """Turn one stored delivery into FlowRecords (portal.flow.records); [] when it yields none."""
        return []

    def sync(self, client: SyncClient, state: SyncState, full: bool) -> AsyncIterator[SyncPage]:
        """Pull sync: an async generator yielding SyncPage(resource, records, cursor) per page read."""
        # Requests go through `client` (pagination helpers, validators, rate limits, budget live there);
        # the runner commits each page's records together with its cursor (portal/sync/).
        raise SyncNotSupported(f"{self.title} has no pull sync")

    def actions(self) -> list[Action]:
        """Scaffolder actions this tool provides (portal.scaffolder.actions.Action instances); [] by default.
        Called once per plugin, on an instance with the default config: an action finds its connection
        when it runs (portal/scaffolder/actions/plugin_actions.py), never from this instance."""
        return []
