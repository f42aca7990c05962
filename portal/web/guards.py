"""One pure ASGI middleware guarding every request before a route runs: rate limits, NUL bytes, body
size, JSON depth, the Origin check and CSRF tokens; and security headers on every response."""

from __future__ import annotations

from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.auth.identity import SESSION_USER_KEY
from portal.errors import error_response
from portal.settings import Settings
from portal.web import csrf
from portal.web.input_checks import MAX_JSON_DEPTH, form_has_nul, json_has_nul, json_too_deep, url_has_nul
from portal.web.limits import RateLimiter
from portal.web.security_headers import security_headers

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Signed by the tools and limited by the webhook intake itself (portal/webhooks).
WEBHOOKS = "/webhooks/"
SIGN_IN_EXEMPT = frozenset({"/auth/sign-out"})


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class _Disconnected(Exception):
    pass


class RequestGuards:
    """Checks each request in O(1) (unsafe requests: O(body)) and answers refusals in the caller's shape."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.request_max_bytes
        self.api_limiter = RateLimiter(settings.api_rate_limit)
        self.sign_in_limiter = RateLimiter(settings.sign_in_rate_limit)
        configured = [settings.base_url, *settings.trusted_origins]
        self.trusted_origins = {origin for origin in map(csrf.origin_of, filter(None, configured)) if origin}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = security_headers(scope, send)
        if scope["path"].startswith(WEBHOOKS):
            await self.app(scope, receive, send)
            return
        try:
            self._check_request_line(scope)
            if scope["method"] in UNSAFE_METHODS:
                headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
                body = await self._checked_body(scope, headers, receive)
                receive = _replay(body, receive)
        except _Refused as refused:
            response = error_response(Request(scope), refused.status, refused.message, refused.headers)
            await response(scope, receive, send)
            return
        except _Disconnected:
            return
        await self.app(scope, receive, send)

    def _check_request_line(self, scope: Scope) -> None:
        path = scope["path"]
        if url_has_nul(path, scope["query_string"]):
            raise _Refused(400, "The URL contains a NUL character (%00), which no name, filter or value may hold")
        limiter = None
        if path.startswith("/api/") and self.api_limiter.enabled:
            limiter, key = self.api_limiter, _client_key(scope)
        elif (scope["method"] == "POST" and path.startswith("/auth/") and path not in SIGN_IN_EXEMPT
              and self.sign_in_limiter.enabled):
            limiter, key = self.sign_in_limiter, "ip:" + _client_ip(scope)
        if limiter is not None:
            wait = limiter.retry_after(key)
            if wait:
                what = "API requests" if limiter is self.api_limiter else "sign-in attempts"
                raise _Refused(429, f"Too many {what} from this client; try again in {wait} seconds",
                               {"Retry-After": str(wait)})
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                raise _Refused(413, _too_large(self.max_bytes))

    async def _checked_body(self, scope: Scope, headers: dict[str, str], receive: Receive) -> bytes:
        reason = csrf.cross_origin_reason(headers, self._own_origins(scope, headers))
        if reason:
            raise _Refused(403, reason)
        body = await _read_body(receive, self.max_bytes)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if csrf.SESSION_COOKIE in cookie_parser(headers.get("cookie", "")):
            given = headers.get(csrf.HEADER.lower())
            if given is None and content_type in FORM_TYPES:
                given = await _form_token(scope, body)
            if not csrf.token_matches(scope.get("session") or {}, given):
                raise _Refused(403, "This form or request has no valid CSRF token (it may be from before you "
                                    "signed in, or from another site): reload the page and try again")
        if content_type in FORM_TYPES:
            if form_has_nul(body):
                raise _Refused(400, "A form value contains a NUL character, which no value may hold")
        elif scope["path"].startswith("/api/") and body:
            if json_has_nul(body):
                raise _Refused(400, "The body contains a NUL character (\\u0000), which no value may hold")
            if json_too_deep(body):
                raise _Refused(400, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        return body

    def _own_origins(self, scope: Scope, headers: dict[str, str]) -> set[str]:
        host = headers.get("host")
        own = {f"{scope.get('scheme', 'http')}://{host}".lower()} if host else set()
        return own | self.trusted_origins


def _too_large(limit: int) -> str:
    return (f"The request body is larger than {limit:,} bytes, the most this portal accepts "
            "(FLOWPORT_REQUEST_MAX_BYTES); send less at a time")


def _client_ip(scope: Scope) -> str:
    # Behind a proxy, uvicorn's --forwarded-allow-ips puts the real client here (docs/security.md).
    client = scope.get("client")
    return client[0] if client else "unknown"


def _client_key(scope: Scope) -> str:
    """A signed-in user is counted as one client wherever they come from; anyone else by address."""
    user = (scope.get("session") or {}).get(SESSION_USER_KEY)
    return f"user:{user}" if isinstance(user, str) else "ip:" + _client_ip(scope)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, counted as it streams in: a body without (or lying about) Content-Length is cut off too."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Refused(413, _too_large(limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the route the body already read, then waits for the disconnect as usual."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_token(scope: Scope, body: bytes) -> str | None:
    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except Exception:  # noqa: BLE001 - an unreadable form carries no token; the route reports the form itself
        return None
    value = form.get(csrf.FORM_FIELD)
    await form.close()
    return value if isinstance(value, str) else None


def install_request_guards(app, settings: Settings) -> None:  # noqa: ANN001
    """Add the guards inside the session middleware (added after this call), which the CSRF check reads."""
    app.add_middleware(RequestGuards, settings=settings)
