"""Find plugins through the `flowport.plugins` entry-point group and build their connections.
A plugin that fails to import or to configure is recorded with its error; the portal still starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points

from pydantic import ValidationError

from portal.logging_setup import get_logger
from portal.plugins.contract import ConnectionConfig, FlowPlugin

ENTRY_POINT_GROUP = "flowport.plugins"
log = get_logger(__name__)


@dataclass
class PluginStatus:
    """Health of one plugin as shown on the admin page and by GET /api/v1/plugins."""

    name: str
    title: str | None = None
    module: str | None = None
    loaded: bool = False
    error: str | None = None
    connections: list[str] = field(default_factory=list)
    last_error_at: datetime | None = None


class PluginRegistry:
    """Plugin classes by name, and one instance per configured connection (never shared)."""

    def __init__(self) -> None:
        self.classes: dict[str, type[FlowPlugin]] = {}
        self.status: dict[str, PluginStatus] = {}
        self._connections: dict[tuple[str, str], FlowPlugin] = {}

    def load_entry_points(self) -> None:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            status = PluginStatus(name=entry.name, module=entry.value)
            self.status[entry.name] = status
            try:
                plugin_class = entry.load()
                if not (isinstance(plugin_class, type) and issubclass(plugin_class, FlowPlugin)):
                    raise TypeError(f"{entry.value} is not a FlowPlugin subclass")
            except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the portal
                status.error = f"{error.__class__.__name__}: {error}"
                status.last_error_at = datetime.now(UTC)
                log.warning("plugin failed to load", plugin=entry.name, error=status.error)
                continue
            self.add_class(plugin_class, status)

    def add_class(self, plugin_class: type[FlowPlugin], status: PluginStatus | None = None) -> None:
        status = status or PluginStatus(name=plugin_class.name, module=plugin_class.__module__)
        status.title, status.loaded = plugin_class.title, True
        self.classes[plugin_class.name] = plugin_class
        self.status[plugin_class.name] = status

    def configure(self, name: str, values: Mapping[str, object]) -> FlowPlugin | None:
        """Build a fresh instance for one connection; a bad config is recorded, not raised."""
        plugin_class = self.classes.get(name)
        if plugin_class is None:
            return None
        try:
            config = plugin_class.config_model.model_validate(dict(values))
        except ValidationError as error:
            status = self.status[name]
            status.error = f"connection {values.get('name', 'default')!r}: {error.errors()[0]['msg']}"
            status.last_error_at = datetime.now(UTC)
            return None
        instance = plugin_class(config)
        self._connections[(name, config.name)] = instance
        self.status[name].connections = sorted({*self.status[name].connections, config.name})
        return instance

    def configure_from_environment(self, environ: Mapping[str, str]) -> None:
        """The simple case: FLOWPORT_<PLUGIN>_WEBHOOK_SECRET (comma-separated for rotation) etc."""
        for name, plugin_class in self.classes.items():
            prefix = f"FLOWPORT_{name.upper()}_"
            values: dict[str, object] = {}
            for key, raw in environ.items():
                if not key.startswith(prefix):
                    continue
                field_name = key[len(prefix):].lower()
                if field_name == "webhook_secret":
                    values["webhook_secrets"] = [part for part in raw.split(",") if part]
                elif field_name in plugin_class.config_model.model_fields:
                    values[field_name] = raw
            if values:
                self.configure(name, values)

    def remove(self, name: str, connection: str) -> bool:
        """Forget one connection (deleted in the admin UI)."""
        removed = self._connections.pop((name, connection), None) is not None
        if name in self.status:
            self.status[name].connections = [c for c in self.status[name].connections if c != connection]
        return removed

    def connections(self) -> list[tuple[str, str, FlowPlugin]]:
        """Every configured (plugin, connection name, instance)."""
        return [(plugin, conn, instance) for (plugin, conn), instance in sorted(self._connections.items())]

    def connection(self, name: str, connection: str = "default") -> FlowPlugin | None:
        return self._connections.get((name, connection))


def build_registry(environ: Mapping[str, str] | None = None) -> PluginRegistry:
    """Discover installed plugins and configure their connections from the environment."""
    registry = PluginRegistry()
    registry.load_entry_points()
    registry.configure_from_environment(os.environ if environ is None else environ)
    return registry


__all__ = ["ConnectionConfig", "PluginRegistry", "PluginStatus", "build_registry"]
