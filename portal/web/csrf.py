"""CSRF defences: a per-session token for forms and HTMX, and the Origin check for unsafe requests."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from portal.auth.identity import SESSION_USER_KEY

TOKEN_KEY = "csrf_token"
# The user the token was issued to: a token from before a sign-in (or sign-out) is no longer valid.
TOKEN_USER_KEY = "csrf_user"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_COOKIE = "session"


def csrf_token(request: Request) -> str:
    """This session's token, made (or rotated, when the signed-in user changed) on first use."""
    session = request.session
    user = session.get(SESSION_USER_KEY)
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or session.get(TOKEN_USER_KEY) != user:
        token = secrets.token_urlsafe(32)
        session[TOKEN_KEY] = token
        session[TOKEN_USER_KEY] = user
    return token


def token_matches(session: dict, given: str | None) -> bool:
    """Constant-time check of a submitted token against the one issued to this session's user."""
    expected = session.get(TOKEN_KEY)
    if not isinstance(expected, str) or not given or session.get(TOKEN_USER_KEY) != session.get(SESSION_USER_KEY):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def origin_of(url: str) -> str | None:
    """`https://portal.example.com/x` -> `https://portal.example.com`; None when it has no host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_origin_reason(headers: dict[str, str], own_origins: set[str]) -> str | None:
    """Why an unsafe request looks like it came from another site's page, or None when it did not."""
    origin = headers.get("origin")
    if origin is not None:
        if origin.strip().lower() in own_origins:
            return None
        if origin.strip().lower() == "null":
            return "Cross-origin request refused: Origin is null (a sandboxed page, a file or a redirect)"
        return f"Cross-origin request refused: Origin {origin!r} is not this portal"
    site = headers.get("sec-fetch-site", "").lower()
    if site in ("cross-site", "same-site"):
        return f"Cross-origin request refused: the browser says it came from a {site} page"
    return None
