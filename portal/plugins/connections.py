"""Connections managed through the API/admin UI: validated by the plugin's config model,
stored with secrets sealed, and (re)built as fresh plugin instances in the registry."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.logging_setup import get_logger
from portal.plugins.models import PluginConnection
from portal.plugins.registry import PluginRegistry
from portal.plugins.secrets import SecretsError, describe, fernet_for, seal, secret_fields, unseal
from portal.settings import Settings

log = get_logger(__name__)
CONNECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class ConnectionError_(ValueError):
    """A connection that cannot be saved; the message is for the person who entered it."""


def _fernet(settings: Settings):
    return fernet_for(settings.secrets_key, settings.secret_key)


def load_stored_connections(engine: Engine, registry: PluginRegistry, settings: Settings) -> None:
    """Build every stored connection; a bad one is recorded on its plugin's status, not raised."""
    with Session(engine) as session:
        rows = session.execute(select(PluginConnection)).scalars().all()
    for row in rows:
        plugin_class = registry.classes.get(row.plugin)
        if plugin_class is None:
            continue
        try:
            values = unseal(plugin_class.config_model, json.loads(row.config), _fernet(settings))
        except SecretsError as error:
            registry.status[row.plugin].error = f"connection {row.name!r}: {error}"
            log.warning("connection not loaded", plugin=row.plugin, connection=row.name, error=str(error))
            continue
        registry.configure(row.plugin, {**values, "name": row.name})


def save_connection(session: Session, registry: PluginRegistry, settings: Settings,
                    plugin: str, name: str, config: dict) -> dict:
    """Validate, seal and store one connection, then give it a fresh plugin instance."""
    plugin_class = registry.classes.get(plugin)
    if plugin_class is None:
        raise ConnectionError_(f"no plugin named {plugin!r} is installed")
    if not CONNECTION_NAME.match(name):
        # The name is part of the webhook URL, so keep it to URL-safe lower-case words.
        raise ConnectionError_(f"connection name {name!r} must be lower-case letters, digits and '-'")
    values = {**config, "name": name}
    try:
        plugin_class.config_model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConnectionError_(f"invalid {plugin} connection: {problems}") from error
    stored = seal(plugin_class.config_model, values, _fernet(settings))
    now = datetime.now(UTC)
    row = session.execute(
        select(PluginConnection).where(PluginConnection.plugin == plugin, PluginConnection.name == name)
    ).scalar_one_or_none()
    if row is None:
        row = PluginConnection(plugin=plugin, name=name, config="", created_at=now, updated_at=now)
        session.add(row)
    row.config, row.updated_at = json.dumps(stored), now
    session.flush()
    try:
        registry.configure(plugin, unseal(plugin_class.config_model, stored, _fernet(settings)))
    except SecretsError as error:
        raise ConnectionError_(str(error)) from error
    return describe_connection(plugin, name, stored, registry)


def delete_connection(session: Session, registry: PluginRegistry, plugin: str, name: str) -> bool:
    result = session.execute(
        delete(PluginConnection).where(PluginConnection.plugin == plugin, PluginConnection.name == name)
    )
    registry.remove(plugin, name)
    return result.rowcount > 0


def describe_connection(plugin: str, name: str, stored: dict, registry: PluginRegistry) -> dict:
    plugin_class = registry.classes[plugin]
    config = describe(plugin_class.config_model, stored)
    config.pop("name", None)
    return {"plugin": plugin, "name": name, "config": config, "stored": True}


def list_connections(session: Session, registry: PluginRegistry) -> list[dict]:
    """Stored connections (secrets masked) and environment-configured ones (their non-secret settings)."""
    rows = session.execute(select(PluginConnection).order_by(PluginConnection.plugin, PluginConnection.name))
    items, stored_keys = [], set()
    for row in rows.scalars():
        if row.plugin in registry.classes:
            items.append(describe_connection(row.plugin, row.name, json.loads(row.config), registry))
            stored_keys.add((row.plugin, row.name))
    for plugin, name, instance in registry.connections():
        if (plugin, name) not in stored_keys:
            config = instance.config
            # What the variables set besides secrets, e.g. FLOWPORT_GITHUB_REPOSITORIES.
            shown = config.model_dump(mode="json", exclude_defaults=True,
                                      exclude=secret_fields(type(config)) | {"name"})
            items.append({"plugin": plugin, "name": name, "config": {"from": "environment", **shown},
                          "stored": False})
    return items
