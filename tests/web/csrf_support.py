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


def dev_sign_in(client, user_ref: str) -> None:  # noqa: ANN001 - a TestClient
    """Sign the client in as a browser would (development sign-in), then load a page so its session holds
    a CSRF token, and send that token with every later request, as the page's forms and HTMX would."""
    response = client.post("/auth/dev/sign-in", data={"user_ref": user_ref}, follow_redirects=False)
    assert response.status_code == 303, response.text
    client.get("/", headers={"accept": "text/html"})
    client.headers.update(csrf_headers(client))


def holds_nul(value: object) -> bool:
    """Whether a JSON body holds a NUL character anywhere: the request guards refuse such a body with
    a 400 before any route sees it (portal/web/input_checks.py)."""
    import json as _json

    return "\\u0000" in _json.dumps(value)


def assert_refused_for_nul(response) -> None:  # noqa: ANN001
    assert response.status_code == 400, response.text
    assert "NUL character" in response.json()["error"]["message"]
