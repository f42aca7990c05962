"""POST /webhooks/… skips the middleware that has nothing to do for a delivery (portal/webhooks/fast_path.py):
what a delivery's answer must still carry, and what still takes the normal way."""

from fastapi.testclient import TestClient

from portal.app import create_app
from portal.webhooks import intake
from tests.webhooks.support import run_async
from tests.webhooks.test_intake import PR_OPENED, github_client, signed_headers  # noqa: F401 - the fixture

PAGE_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def test_a_delivery_is_answered_with_the_security_headers_and_no_session_cookie(github_client):
    response = github_client.post("/webhooks/github", content=PR_OPENED, headers=signed_headers(PR_OPENED))
    assert response.status_code == 202, response.text
    assert all(name in response.headers for name in PAGE_HEADERS)
    assert "set-cookie" not in response.headers


def test_a_refused_delivery_on_the_fast_path_is_a_4xx_with_the_reason(github_client):
    headers = {**signed_headers(PR_OPENED), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    response = github_client.post("/webhooks/github/default", content=PR_OPENED, headers=headers)
    assert response.status_code == 401 and "does not match" in response.json()["reason"]
    assert "x-content-type-options" in response.headers


def test_other_methods_and_paths_under_webhooks_take_the_normal_way(github_client):
    # GET on the intake path reaches the router (which knows only POST there), not the intake.
    assert github_client.get("/webhooks/github", headers={"accept": "application/json"}).status_code in (401, 403, 404, 405)
    # A path deeper than the intake's is not a delivery: the router answers 404 in the API's shape.
    deeper = github_client.post("/webhooks/github/default/extra", content=b"{}",
                                headers={"content-type": "application/json"})
    assert deeper.status_code == 404


def test_an_unexpected_error_on_the_fast_path_is_a_500_not_a_dropped_connection(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", "s")

    async def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(intake, "_receive", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/webhooks/github", content=PR_OPENED, headers={"content-type": "application/json"})
    assert response.status_code == 500
    assert "boom" not in response.text  # no internals in the answer


def test_only_a_post_matching_an_intake_route_bypasses_the_rest_of_the_stack():
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from portal.webhooks.fast_path import WebhookFastPath

    reached = []

    async def rest_of_stack(scope, receive, send):
        reached.append(("stack", scope["method"], scope["path"]))
        await PlainTextResponse("stack")(scope, receive, send)

    async def endpoint(request):
        reached.append(("intake", request.path_params["source"]))
        return PlainTextResponse("intake")

    app = WebhookFastPath(rest_of_stack, [Route("/webhooks/{source}", endpoint, methods=["POST"])])

    def call(method, path):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"",
                 "headers": [], "scheme": "http", "server": ("testserver", 80)}
        run_async(app(scope, receive, send))
        return dict(sent[0]["headers"])

    headers = call("POST", "/webhooks/github")
    assert b"x-content-type-options" in headers
    call("GET", "/webhooks/github")
    call("POST", "/webhooks/github/default/extra")
    call("POST", "/api/v1/requests")
    assert reached == [("intake", "github"), ("stack", "GET", "/webhooks/github"),
                       ("stack", "POST", "/webhooks/github/default/extra"), ("stack", "POST", "/api/v1/requests")]
