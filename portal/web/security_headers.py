"""Security headers on every response: a CSP without inline script, no framing, no sniffing, HSTS on HTTPS."""

from __future__ import annotations

from starlette.types import Message, Scope, Send

# Pages load only the portal's own scripts and styles (htmx, flowport.css); nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API explorer (portal/web/api_docs.py) runs Swagger UI from the portal's own files with a static
# start-up script; Swagger UI sets style attributes as it renders, so only styles may be inline.
API_EXPLORER_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
API_EXPLORER_PATHS = frozenset({"/docs"})
HSTS = "max-age=31536000"


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


_PAGE_HEADERS = _raw({"content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff",
                      "referrer-policy": "same-origin", "x-frame-options": "DENY"})
_EXPLORER_HEADERS = _raw({"content-security-policy": API_EXPLORER_POLICY, "x-content-type-options": "nosniff",
                          "referrer-policy": "same-origin", "x-frame-options": "DENY"})
_HSTS_HEADER = (b"strict-transport-security", HSTS.encode())


def security_headers(scope: Scope, send: Send) -> Send:
    """Wrap `send` so the response start carries the headers (a route's own values win)."""
    extra = _EXPLORER_HEADERS if scope["path"] in API_EXPLORER_PATHS else _PAGE_HEADERS
    if scope.get("scheme") == "https":
        extra = [*extra, _HSTS_HEADER]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or ())  # a copy: the response may reuse its own list
            present = {name.lower() for name, _ in headers}
            headers.extend(header for header in extra if header[0] not in present)
            message["headers"] = headers
        await send(message)

    return send_with_headers
