"""Actions that plugins provide (FlowPlugin.actions), the connection an action uses, and REST calls to a
tool's API with the connection's token, answered with messages people can act on.

An action picks the connection of its plugin whose `api_url` host is the repository's host or `api.` +
that host (github.com → api.github.com; ghe.example.com → ghe.example.com/api/v3; gitlab.com →
gitlab.com/api/v4). None matching is a clear error; several: the one named `default`, else the first by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.logging_setup import get_logger
from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.services import outbound_client, services_of
from portal.scaffolder.filters import FilterError, parse_repo_url

log = get_logger(__name__)
API_TIMEOUT = 30.0
MAX_ANSWER_BYTES = 5 * 1024 * 1024
# Backstage's `token` input: a user's own token (usually `${{ secrets.USER_OAUTH_TOKEN or false }}`);
# false or empty means the connection's token.
TOKEN_INPUT = {"type": ["string", "boolean"], "maxLength": 4000,
               "description": "A token to use instead of the connection's (false: the connection's)"}
# Backstage's actions of these ids take more inputs than Flowport uses; they are accepted and named in
# the log, so a template written for Backstage loads and runs unchanged.
LENIENT = {"propertyNames": {"maxLength": 100}, "maxProperties": 60}


def note_ignored_inputs(ctx: ActionContext, action: Action) -> None:
    """Log the inputs this action accepts for Backstage's sake but does not use."""
    ignored = sorted(set(ctx.input) - set(action.input_schema.get("properties", {})))
    if ignored:
        ctx.log(f"Ignoring inputs {', '.join(ignored)}: {action.id} in Flowport does not use them")


def token_of(ctx: ActionContext, instance: Any) -> str:
    """The step's own `token` when it gives one, else the connection's."""
    given = ctx.input.get("token")
    if isinstance(given, str) and given.strip():
        return given.strip()
    return instance.config.token.get_secret_value()


def plugin_actions(plugins: Any, taken: frozenset[str] = frozenset()) -> list[Action]:
    """Every action of the installed plugins, once per plugin (not per connection); an id already `taken`
    (by a built-in action) or provided by an earlier plugin is skipped."""
    if plugins is None:
        return []
    actions: dict[str, Action] = {}
    for name in sorted(plugins.classes):
        plugin_class = plugins.classes[name]
        try:
            provided = plugin_class(plugin_class.config_model()).actions()
        except Exception as error:  # noqa: BLE001 - a broken plugin must not take the scaffolder down
            log.warning("plugin actions not loaded", plugin=name, error=f"{type(error).__name__}: {error}")
            continue
        for action in provided:
            if action.id in actions or action.id in taken:
                log.warning("plugin action skipped: id already provided", plugin=name, action=action.id)
                continue
            actions[action.id] = action
    return list(actions.values())


@dataclass(frozen=True)
class Repository:
    """`host?owner=o&repo=r` taken apart."""

    host: str
    owner: str
    name: str


def repository_of(ctx: ActionContext, field: str = "repoUrl") -> Repository:
    try:
        spec = parse_repo_url(ctx.input.get(field))
    except FilterError as error:
        raise ActionError(f"{ctx.step_label}: input.{field}: {error}") from None
    owner = spec.get("owner") or spec.get("organization") or spec.get("workspace") or ""
    for part in [*owner.split("/"), spec["repo"]]:
        if part in ("", ".", "..") or any(c in part for c in "\\?#%\x00 "):
            raise ActionError(f"{ctx.step_label}: input.{field}: {part!r} is not a usable owner or repository name")
    allowed = ctx.input.get("allowedHosts")
    if allowed and spec["host"].lower() not in {h.lower() for h in allowed}:
        raise ActionError(f"{ctx.step_label}: host {spec['host']!r} is not in the step's allowedHosts")
    return Repository(spec["host"].lower(), owner, spec["repo"])


def connection_for(ctx: ActionContext, plugin: str, title: str, host: str) -> Any:
    """The plugin instance (one connection) serving `host`, or an ActionError naming what to configure."""
    registry = services_of(ctx, f"{plugin} actions").plugins
    candidates = []
    for name, connection, instance in (registry.connections() if registry is not None else []):
        api_host = (urlsplit(getattr(instance.config, "api_url", "") or "").hostname or "").lower()
        if name == plugin and api_host in (host, f"api.{host}"):
            candidates.append((connection != "default", connection, instance))
    if not candidates:
        raise ActionError(f"{ctx.step_label}: no {title} connection serves {host}; add one whose api_url is on "
                          f"{host} (Admin → Plugins)")
    _, connection, instance = sorted(candidates, key=lambda c: (c[0], c[1]))[0]
    token = getattr(instance.config, "token", None)
    own = ctx.input.get("token")
    if (token is None or not token.get_secret_value()) and not (isinstance(own, str) and own.strip()):
        raise ActionError(f"{ctx.step_label}: the {title} connection {connection!r} has no token")
    ctx.log(f"Using the {title} connection {connection!r}")
    return instance


class ToolApi:
    """REST calls to one connection's API: bearer token, JSON, and errors worded for people."""

    def __init__(self, ctx: ActionContext, client: httpx.Client, api_url: str, token: str, title: str,
                 headers: dict[str, str] | None = None) -> None:
        self.ctx, self.client, self.base, self.title = ctx, client, api_url.rstrip("/"), title
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202, 204)) -> Any:
        """The decoded JSON answer (None for an empty one); ActionError for anything but `ok`."""
        url = f"{self.base}/{path.lstrip('/')}"
        try:
            response = self.client.request(method, url, json=body, headers=self.headers, follow_redirects=False)
        except httpx.TimeoutException:
            raise ActionError(f"{self.ctx.step_label}: {self.title} did not answer {method} {path} in time") from None
        except httpx.HTTPError as error:
            raise ActionError(f"{self.ctx.step_label}: cannot reach {self.title}: {error}") from None
        if response.status_code not in ok:
            raise ActionError(f"{self.ctx.step_label}: {self.title} refused {method} {path}: "
                              f"{self.explain(response)}")
        if not response.content:
            return None
        if len(response.content) > MAX_ANSWER_BYTES:
            raise ActionError(f"{self.ctx.step_label}: {self.title}'s answer to {method} {path} is too large")
        try:
            return response.json()
        except (ValueError, RecursionError):
            raise ActionError(f"{self.ctx.step_label}: {self.title} answered {method} {path} with something "
                              "that is not JSON") from None

    def explain(self, response: httpx.Response) -> str:
        status, headers = response.status_code, response.headers
        message = _message_of(response)
        if status == 401:
            return f"401, the connection's token was not accepted ({message})"
        if status in (403, 429) and (headers.get("x-ratelimit-remaining") == "0" or headers.get("retry-after")
                                     or headers.get("ratelimit-remaining") == "0"):
            return f"{status}, rate limit reached{_reset_time(headers)} ({message})"
        if status >= 500:
            return f"{status}, {self.title} failed on its side; run the template again later ({message})"
        return f"{status} ({message})"


def _message_of(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except (ValueError, RecursionError):
        return response.reason_phrase or "no details"
    if not isinstance(answer, dict):
        return "no details"
    parts = [str(answer.get("message") or answer.get("error") or "")]
    for error in answer.get("errors") or []:
        parts.append(str(error.get("message") or error.get("code") or "") if isinstance(error, dict) else str(error))
    if isinstance(answer.get("message"), dict):  # GitLab: {"message": {"name": ["has already been taken"]}}
        parts = [f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in answer["message"].items()]
    return "; ".join(p for p in parts if p)[:500] or "no details"


def _reset_time(headers: httpx.Headers) -> str:
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if reset and reset.isdigit() and int(reset) < 2**40:
        return f" until {datetime.fromtimestamp(int(reset), UTC).strftime('%H:%M:%S UTC')}"
    retry = headers.get("retry-after")
    return f"; retry after {retry} s" if retry and retry.isdigit() else ""


@contextmanager
def tool_api(ctx: ActionContext, action_id: str, instance: Any, title: str,
             headers: dict[str, str] | None = None) -> Iterator[ToolApi]:
    with outbound_client(ctx, action_id, API_TIMEOUT) as client:
        yield ToolApi(ctx, client, instance.config.api_url, token_of(ctx, instance), title, headers)
