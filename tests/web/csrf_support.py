"""For tests that post like a browser after loading a page: the CSRF header that page would send."""

from __future__ import annotations

import base64
import json


def csrf_headers(client) -> dict[str, str]:  # noqa: ANN001 - a TestClient
    """`{"X-CSRF-Token": ...}` of the client's session (read from its signed cookie), or {} without one."""
    cookie = client.cookies.get("session")
    if not cookie:
        return {}
    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    return {"X-CSRF-Token": payload["csrf_token"]} if "csrf_token" in payload else {}
