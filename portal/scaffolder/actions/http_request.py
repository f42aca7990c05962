"""http:request: calls an external automation on FLOWPORT_HTTP_REQUEST_ALLOW_HOSTS with a payload signed
per Standard Webhooks. Every hop passes portal/net (host list, literal and resolved addresses) and
redirects are followed here, one checked hop at a time; the answer is read up to a byte limit."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from portal.net import refuse_reason
from portal.net.fetch import REDIRECT_STATUSES
from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.services import outbound_client, settings_of
from portal.scaffolder.actions.webhook_signing import Signer, SigningSecretError, signer_for

ALLOW_HOSTS_SETTING = "FLOWPORT_HTTP_REQUEST_ALLOW_HOSTS"
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
# Headers the action sets itself (or the transport must): a template may not replace them.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "webhook-id",
                              "webhook-timestamp", "webhook-signature"})
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class HttpRequest(Action):
    id = "http:request"
    description = ("Calls an allowed external automation (FLOWPORT_HTTP_REQUEST_ALLOW_HOSTS) with a payload signed "
                   "per Standard Webhooks; answers its status, headers and body.")
    input_schema = {
        "type": "object", "required": ["method"], "additionalProperties": False,
        "oneOf": [{"required": ["url"]}, {"required": ["path"]}],
        "properties": {
            "method": {"type": "string", "enum": METHODS},
            "url": {"type": "string", "maxLength": 2000, "description": "Absolute http(s) URL"},
            "path": {"type": "string", "maxLength": 2000,
                     "description": "Path joined to FLOWPORT_HTTP_REQUEST_BASE_URL"},
            "headers": {"type": "object", "maxProperties": 50,
                        "additionalProperties": {"type": "string", "maxLength": 4000}},
            "body": {"description": "JSON value (sent as JSON) or text (sent as it is)"},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
            "continueOnBadResponse": {"type": "boolean", "description": "Do not fail on a 4xx or 5xx answer"},
        },
    }
    output_schema = {"type": "object", "properties": {
        "code": {"type": "integer"}, "headers": {"type": "object"}, "body": {}}}

    def run(self, ctx: ActionContext) -> None:
        settings = settings_of(ctx, self.id)
        url = self._url(ctx, settings)
        body, headers = self._payload(ctx, settings)
        signer = self._signer(ctx, settings)
        timeout = float(ctx.input.get("timeout") or settings.http_request_timeout)
        with outbound_client(ctx, self.id, timeout) as client:
            response_code, response_headers, raw = self._send(ctx, settings, client, url, body, headers, signer,
                                                              timeout)
        answer = _decoded(response_headers, raw)
        ctx.output("code", response_code)
        ctx.output("headers", response_headers)
        ctx.output("body", answer)
        if response_code >= 400 and not ctx.input.get("continueOnBadResponse"):
            raise ActionError(f"{ctx.step_label}: {_shown(url)} answered {response_code}")

    def _url(self, ctx: ActionContext, settings: Any) -> str:
        if "url" in ctx.input:
            return ctx.input["url"]
        base = settings.http_request_base_url
        if not base:
            raise ActionError(f"{ctx.step_label}: input.path needs FLOWPORT_HTTP_REQUEST_BASE_URL; give an "
                              "absolute input.url instead")
        path = ctx.input["path"]
        plain = unquote(path.split("?")[0])  # %2e%2e is '..' to most servers
        if "\x00" in plain or "://" in path or path.startswith("//") or ".." in plain.replace("\\", "/").split("/"):
            raise ActionError(f"{ctx.step_label}: input.path {path!r} must be a path below the base URL")
        return base.rstrip("/") + "/" + path.lstrip("/")

    def _payload(self, ctx: ActionContext, settings: Any) -> tuple[bytes, dict[str, str]]:
        headers: dict[str, str] = {}
        for name, value in (ctx.input.get("headers") or {}).items():
            if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
                raise ActionError(f"{ctx.step_label}: input.headers may not set {name!r}")
            if any(c in value for c in "\r\n\x00"):
                raise ActionError(f"{ctx.step_label}: input.headers.{name} contains a line break or NUL")
            headers[name] = value
        body = ctx.input.get("body")
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
        if len(data) > settings.http_request_max_bytes:
            raise ActionError(f"{ctx.step_label}: input.body is {len(data)} bytes, more than the "
                              f"{settings.http_request_max_bytes} allowed (FLOWPORT_HTTP_REQUEST_MAX_BYTES)")
        return data, headers

    def _signer(self, ctx: ActionContext, settings: Any) -> Signer | None:
        if not settings.http_request_signing_secret:
            ctx.log("Sending unsigned: FLOWPORT_HTTP_REQUEST_SIGNING_SECRET is not set")
            return None
        try:
            return signer_for(settings.http_request_signing_secret.get_secret_value())
        except SigningSecretError as error:
            raise ActionError(f"{ctx.step_label}: {error}") from None

    def _send(self, ctx: ActionContext, settings: Any, client: httpx.Client, url: str, body: bytes,
              headers: dict[str, str], signer: Signer | None, timeout: float) -> tuple[int, dict[str, str], bytes]:
        method, current, seen = ctx.input["method"], url, []
        while True:
            refusal = refuse_reason(current, settings.http_request_allow_hosts, settings.url_allow_private_networks,
                                    allow_hosts_setting=ALLOW_HOSTS_SETTING)
            if refusal:
                hop = "" if not seen else f"{_shown(seen[-1])} redirects to {_shown(current)}, and "
                raise ActionError(f"{ctx.step_label}: {hop}{refusal}")
            if current in seen or len(seen) > settings.url_max_redirects:
                raise ActionError(f"{ctx.step_label}: {_shown(url)} redirects too often or in a loop")
            seen.append(current)
            ctx.log(f"{method} {_shown(current)}")
            try:
                signed = {**headers, **(signer.headers(body) if signer else {})}
                with client.stream(method, current, content=body or None, headers=signed,
                                   follow_redirects=False, timeout=timeout) as response:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        following = str(response.url.join(location))
                        if _origin(following) != _origin(current):
                            # Credentials meant for one server are not handed to the next one.
                            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
                        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                            method, body = "GET", b""
                            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                        current = following
                        continue
                    raw = _read_limited(response, settings.http_request_max_bytes, ctx.step_label, current)
                    kept = {name.lower(): value for name, value in response.headers.items()}
                    return response.status_code, kept, raw
            except httpx.TimeoutException:
                raise ActionError(f"{ctx.step_label}: {_shown(current)} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as error:
                raise ActionError(f"{ctx.step_label}: cannot reach {_shown(current)}: {error}") from None


def _read_limited(response: httpx.Response, limit: int, where: str, url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    too_large = f"{where}: {_shown(url)} answers more than {limit} bytes (FLOWPORT_HTTP_REQUEST_MAX_BYTES)"
    if declared.strip().isdigit() and int(declared) > limit:
        raise ActionError(too_large)
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ActionError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(headers: dict[str, str], raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    if "json" in headers.get("content-type", "").lower() and text.strip():
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return text


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _shown(url: str) -> str:
    """A URL for logs: without its query and fragment (they may carry tokens)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # never a user name or password
    return f"{parts.scheme}://{host}{parts.path}"
