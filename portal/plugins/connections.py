"""Connections managed through the API/admin UI: validated by the plugin's config model,
stored with secrets sealed, and (re)built as fresh plugin instances in the registry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session


from portal.logging_setup import get_logger
from portal.net.addresses import address_refusal, as_networks, literal_ip
from portal.net.urls import host_allowed, refuse_reason
from portal.plugins.models import PluginConnection
from portal.plugins.registry import PluginRegistry
from portal.plugins.secrets import (
    EnvRule,
    SecretsError,
    describe,
    fernet_for,
    rotate,
    seal,
    secret_fields,
    unseal,
)
from portal.settings import Settings

log = get_logger(__name__)
CONNECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class ConnectionError_(ValueError):
    """A connection that cannot be saved; the message is for the person who entered it."""


def connection_fernet(settings: Settings):  # noqa: ANN201 - a MultiFernet
    """The keys connection secrets are sealed with; production never derives one from the cookie key."""
    return fernet_for(settings.secrets_key, settings.secret_key, derive=settings.env != "production")


def env_rule(settings: Settings) -> EnvRule:
    """Which variables `env:NAME` secrets may read: the configured prefix, never one of Flowport's settings."""
    reserved = frozenset(f"FLOWPORT_{name.upper()}" for name in Settings.model_fields)
    return EnvRule(settings.secret_env_prefix, reserved)


def url_fields(model: type[BaseModel]) -> dict[str, str | None]:
    """The config fields that say where the plugin connects (`*_url`), with their default URL."""
    return {name: field.default if isinstance(field.default, str) else None
            for name, field in model.model_fields.items() if name == "url" or name.endswith("_url")}


def _refuse_url(field: str, url: object, default: str | None, settings: Settings) -> str | None:
    """Why a connection may not send its requests (and token) to `url`, or None when it may."""
    if not isinstance(url, str) or not url or len(url) > 2000 or any(ord(c) <= 32 or ord(c) == 127 for c in url) \
            or "\\" in url:
        return f"{field} must be an http(s) URL without spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{field} must be an http(s) URL with a host, e.g. {default or 'https://tool.example.com'}"
    if "@" in parts.netloc:
        return f"{field} must not carry a user name or password; put the credential in the token field"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"{field} has an invalid port"
    host, allow = parts.hostname.lower(), settings.url_allow_hosts
    named = [entry for entry in allow if entry.strip() != "*"]
    address = literal_ip(host)
    refusal = address_refusal(address, as_networks(settings.url_allow_private_networks)) if address else None
    if refusal:
        return (f"{field} points at a loopback, private or link-local address ({refusal}); add its network to "
                "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS if the portal really must reach it")
    default_host = (urlsplit(default).hostname or "").lower() if default else None
    if host != default_host and not host_allowed(host, allow):
        where = f"the plugin's own host {default_host} or " if default_host else ""
        return (f"{field} host {host!r} is not allowed: use {where}a host listed in FLOWPORT_URL_ALLOW_HOSTS "
                "(a host, '*.suffix' or '*')")
    if settings.env == "production" and parts.scheme.lower() != "https" and not host_allowed(host, named):
        return f"{field} must use https in production (or name {host!r} in FLOWPORT_URL_ALLOW_HOSTS to allow http)"
    # The outbound guard's rules for the URL as written (literal loopback, private, link-local and
    # metadata addresses in any spelling); the sync transport checks every resolved address again.
    refusal = refuse_reason(url, [*allow, *([default_host] if default_host else [])],
                            settings.url_allow_private_networks)
    return f"{field}: {refusal}" if refusal else None


def refused_urls(model: type[BaseModel], values: dict, settings: Settings) -> list[str]:
    """Every reason the config's URL fields are refused (none when all may be used)."""
    problems = []
    for field, default in url_fields(model).items():
        if values.get(field) is not None and (problem := _refuse_url(field, values[field], default, settings)):
            problems.append(problem)
    return problems


def load_stored_connections(engine: Engine, registry: PluginRegistry, settings: Settings) -> None:
    """Build every stored connection; a bad one is recorded on its plugin's status, not raised."""
    with Session(engine) as session:
        rows = session.execute(select(PluginConnection)).scalars().all()
    for row in rows:
        plugin_class = registry.classes.get(row.plugin)
        if plugin_class is None:
            continue
        try:
            stored = json.loads(row.config)
            # Rows saved before the URL and env rules (or before the allow-list changed) are checked again.
            if problems := refused_urls(plugin_class.config_model, stored, settings):
                raise SecretsError("; ".join(problems))
            values = unseal(plugin_class.config_model, stored, connection_fernet(settings), env_rule(settings))
        except SecretsError as error:
            status = registry.status[row.plugin]
            status.error, status.last_error_at = f"connection {row.name!r}: {error}", datetime.now(UTC)
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
        validated = plugin_class.config_model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConnectionError_(f"invalid {plugin} connection: {problems}") from error
    where = validated.model_dump(include=set(url_fields(plugin_class.config_model)))
    if problems := refused_urls(plugin_class.config_model, where, settings):
        raise ConnectionError_(f"invalid {plugin} connection: {'; '.join(problems)}")
    try:
        fernet, rule = connection_fernet(settings), env_rule(settings)
        stored = seal(plugin_class.config_model, values, fernet, rule)
    except SecretsError as error:
        raise ConnectionError_(f"invalid {plugin} connection: {error}") from error
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
        registry.configure(plugin, unseal(plugin_class.config_model, stored, fernet, rule))
    except SecretsError as error:
        raise ConnectionError_(str(error)) from error
    return describe_connection(plugin, name, stored, registry)


def rotate_stored_secrets(session: Session, settings: Settings) -> Iterator[tuple[str, str, int | str]]:
    """Re-encrypt every stored connection's secrets with the first key; yields (plugin, name, count or error).
    Each connection is flushed on its own so the caller can commit one at a time."""
    fernet = connection_fernet(settings)
    rows = session.execute(select(PluginConnection).order_by(PluginConnection.plugin, PluginConnection.name))
    for row in rows.scalars().all():
        try:
            rotated, count = rotate(json.loads(row.config), fernet)
        except SecretsError as error:
            yield row.plugin, row.name, str(error)
            continue
        if count:
            row.config, row.updated_at = json.dumps(rotated), datetime.now(UTC)
            session.flush()
        yield row.plugin, row.name, count


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
