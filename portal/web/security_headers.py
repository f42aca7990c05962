"""Security headers on every response: a CSP without inline script, no framing, no sniffing, HSTS on HTTPS."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope, Send

# Pages load only the portal's own scripts and styles (htmx, flowport.css); nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's API explorer pages load Swagger UI and ReDoc from their CDN with an inline start-up script.
API_EXPLORER_POLICY = "frame-ancestors 'none'"
API_EXPLORER_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=31536000"


def security_headers(scope: Scope, send: Send) -> Send:
    """Wrap `send` so the response start carries the headers (a route's own values win)."""
    policy = API_EXPLORER_POLICY if scope["path"] in API_EXPLORER_PATHS else CONTENT_SECURITY_POLICY
    https = scope.get("scheme") == "https"

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("content-security-policy", policy)
            headers.setdefault("x-content-type-options", "nosniff")
            headers.setdefault("referrer-policy", "same-origin")
            headers.setdefault("x-frame-options", "DENY")
            if https:
                headers.setdefault("strict-transport-security", HSTS)
        await send(message)

    return send_with_headers
