"""http:request: signed calls to a real local server, and the SSRF guard (issue #10: SSRF through http:request)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from portal.scaffolder.actions import ActionError, validate_action_input
from portal.scaffolder.actions.contract import ActionInputError
from portal.scaffolder.actions.http_request import HttpRequest
from tests.scaffolder.actions.git_support import action_settings, services
from tests.scaffolder.actions.helpers import make_context
from tests.scaffolder.actions.hook_server import hook_server

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def verify_standard_webhook(key: bytes, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (Standard Webhooks spec): HMAC-SHA256 of `id.timestamp.body`, any v1 signature."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1)[1] for part in headers["webhook-signature"].split(" ") if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def call(tmp_path, settings, http=None, **inputs):
    validate_action_input(HttpRequest(), inputs, "step")
    ctx, lines = make_context(tmp_path, input=inputs, services=services(settings, http=http))
    HttpRequest().run(ctx)
    return ctx.outputs, lines


def local_settings(tmp_path, **overrides):
    """127.0.0.1 allowed by name and by network, as an operator allowing an intranet automation would."""
    values = {"http_request_allow_hosts": ["127.0.0.1"], "url_allow_private_networks": ["127.0.0.1/32"],
              "http_request_signing_secret": SECRET}
    return action_settings(tmp_path, **{**values, **overrides})


def test_an_allowed_automation_receives_a_signed_payload_it_can_verify(tmp_path):
    with hook_server() as server:
        server.routes["/hooks/provision"] = (202, {"Content-Type": "application/json", "X-Run": "77"},
                                             b'{"accepted": true, "run": 77}')
        outputs, lines = call(tmp_path, local_settings(tmp_path), method="POST",
                              url=f"{server.url}/hooks/provision?token=abc",
                              headers={"X-Team": "returns"}, body={"component": "returns-service", "size": 3})
    [received] = server.received
    assert received.method == "POST" and received.path == "/hooks/provision?token=abc"
    assert json.loads(received.body) == {"component": "returns-service", "size": 3}
    assert received.headers["content-type"] == "application/json"
    assert received.headers["x-team"] == "returns"
    assert received.headers["webhook-id"].startswith("msg_")
    assert received.headers["webhook-timestamp"].isdigit()
    assert verify_standard_webhook(KEY, received.headers, received.body)
    assert not verify_standard_webhook(b"another key of 32 bytes........", received.headers, received.body)
    assert outputs["code"] == 202
    assert outputs["body"] == {"accepted": True, "run": 77}
    assert outputs["headers"]["x-run"] == "77"
    # Neither the secret nor the query (it may carry a token) is logged.
    assert lines == [f"POST {server.url}/hooks/provision"]
    assert not any(SECRET in line or "abc" in line for line in lines)


def test_a_path_is_joined_to_the_configured_base_url_and_text_bodies_are_sent_as_they_are(tmp_path):
    with hook_server() as server:
        server.routes["/api/jobs/run"] = (200, {"Content-Type": "text/plain"}, b"queued")
        settings = local_settings(tmp_path, http_request_base_url=f"{server.url}/api/")
        outputs, _ = call(tmp_path, settings, method="PUT", path="/jobs/run", body="name=returns")
    assert server.received[0].body == b"name=returns"
    assert verify_standard_webhook(KEY, server.received[0].headers, b"name=returns")
    assert outputs == {"code": 200, "headers": outputs["headers"], "body": "queued"}


def test_without_a_secret_the_request_is_sent_unsigned_and_says_so(tmp_path):
    with hook_server() as server:
        server.routes["/x"] = (204, {}, b"")
        _, lines = call(tmp_path, local_settings(tmp_path, http_request_signing_secret=None), method="GET",
                        url=f"{server.url}/x")
    assert "webhook-signature" not in server.received[0].headers
    assert lines[0] == "Sending unsigned: FLOWPORT_HTTP_REQUEST_SIGNING_SECRET is not set"


@pytest.mark.parametrize("secret", ["not-a-secret", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()])
def test_a_malformed_signing_secret_is_an_error_that_never_shows_it(tmp_path, secret):
    with pytest.raises(ActionError) as caught:
        call(tmp_path, local_settings(tmp_path, http_request_signing_secret=secret), method="GET",
             url="http://127.0.0.1:9/")
    assert "FLOWPORT_HTTP_REQUEST_SIGNING_SECRET must be 'whsec_'" in str(caught.value)
    assert secret not in str(caught.value)


def test_a_bad_answer_fails_the_step_unless_asked_to_continue(tmp_path):
    with hook_server() as server:
        server.routes["/down"] = (503, {"Content-Type": "application/json"}, b'{"error": "maintenance"}')
        with pytest.raises(ActionError, match="/down answered 503"):
            call(tmp_path, local_settings(tmp_path), method="POST", url=f"{server.url}/down", body={})
        outputs, _ = call(tmp_path, local_settings(tmp_path), method="POST", url=f"{server.url}/down", body={},
                          continueOnBadResponse=True)
    assert (outputs["code"], outputs["body"]) == (503, {"error": "maintenance"})


def test_an_answer_over_the_size_limit_is_refused(tmp_path):
    with hook_server() as server:
        server.routes["/big"] = (200, {}, b"x" * 2000)
        with pytest.raises(ActionError, match="answers more than 1000 bytes"):
            call(tmp_path, local_settings(tmp_path, http_request_max_bytes=1000), method="GET", url=f"{server.url}/big")


def test_a_body_over_the_size_limit_is_refused_before_sending(tmp_path):
    with hook_server() as server:
        with pytest.raises(ActionError, match="more than the 100 allowed"):
            call(tmp_path, local_settings(tmp_path, http_request_max_bytes=100), method="POST",
                 url=f"{server.url}/x", body={"blob": "y" * 200})
    assert server.received == []


# -- SSRF: each refused with a clear message, and nothing reaches the server --

def test_a_host_not_on_the_list_is_refused(tmp_path):
    with hook_server() as server:
        settings = local_settings(tmp_path, http_request_allow_hosts=["hooks.northwind.example"])
        with pytest.raises(ActionError, match="host '127.0.0.1' is not allowed; add it to "
                                              "FLOWPORT_HTTP_REQUEST_ALLOW_HOSTS"):
            call(tmp_path, settings, method="POST", url=f"{server.url}/x")
    assert server.received == []


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:{port}/x", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address"),
    ("http://[::1]:{port}/x", "::1 is a loopback address"),
    ("http://2130706433:{port}/x", "127.0.0.1 is a loopback address"),
    ("http://0x7f.1:{port}/x", "127.0.0.1 is a loopback address"),
])
def test_literal_private_addresses_are_refused_even_with_every_host_allowed(tmp_path, url, reason):
    with hook_server() as server:
        settings = action_settings(tmp_path, http_request_allow_hosts=["*"])
        with pytest.raises(ActionError, match=reason):
            call(tmp_path, settings, method="POST", url=url.format(port=server.port))
    assert server.received == []


def test_an_allowed_name_that_resolves_to_loopback_is_refused_when_connecting(tmp_path):
    with hook_server() as server:
        settings = action_settings(tmp_path, http_request_allow_hosts=["localhost"])
        with pytest.raises(ActionError, match="refused to connect to localhost: .* loopback address"):
            call(tmp_path, settings, method="POST", url=f"http://localhost:{server.port}/x")
    assert server.received == []


def test_an_allowed_host_redirecting_to_loopback_is_refused_at_the_hop(tmp_path):
    asked: list[str] = []

    def automation(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(307, headers={"Location": "http://127.0.0.1:8080/admin"})

    settings = action_settings(tmp_path, http_request_allow_hosts=["hooks.northwind.example", "127.0.0.1"])
    http = httpx.Client(transport=httpx.MockTransport(automation))
    with pytest.raises(ActionError, match="hooks.northwind.example/run redirects to http://127.0.0.1:8080/admin, "
                                          "and .*127.0.0.1 is a loopback address"):
        call(tmp_path, settings, http=http, method="POST", url="https://hooks.northwind.example/run", body={})
    assert asked == ["https://hooks.northwind.example/run"]


def test_a_real_redirect_to_the_metadata_address_is_refused(tmp_path):
    with hook_server() as server:
        server.routes["/start"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        settings = local_settings(tmp_path, http_request_allow_hosts=["*"])
        with pytest.raises(ActionError, match="redirects to http://169.254.169.254/latest/meta-data/, and .*"
                                              "cloud metadata address"):
            call(tmp_path, settings, method="GET", url=f"{server.url}/start")
    assert [r.path for r in server.received] == ["/start"]


def test_an_allowed_redirect_is_followed_and_a_303_turns_into_a_get(tmp_path):
    with hook_server() as server:
        server.routes["/start"] = (303, {"Location": "/done"}, b"")
        server.routes["/done"] = (200, {"Content-Type": "application/json"}, b'{"ok": true}')
        outputs, _ = call(tmp_path, local_settings(tmp_path), method="POST", url=f"{server.url}/start", body={"a": 1})
    assert [(r.method, r.path) for r in server.received] == [("POST", "/start"), ("GET", "/done")]
    assert outputs["body"] == {"ok": True}
    done = server.received[1]
    # The GET carries no body, so it is signed for an empty one, as the same message.
    assert done.body == b"" and "content-type" not in done.headers
    assert verify_standard_webhook(KEY, done.headers, b"")
    assert done.headers["webhook-id"] == server.received[0].headers["webhook-id"]


def test_a_redirect_to_another_server_keeps_the_signed_body_but_not_the_credentials(tmp_path):
    with hook_server() as first, hook_server() as second:
        first.routes["/start"] = (307, {"Location": f"{second.url}/moved"}, b"")
        second.routes["/moved"] = (200, {}, b"ok")
        call(tmp_path, local_settings(tmp_path), method="POST", url=f"{first.url}/start",
             headers={"Authorization": "Bearer automation-token", "X-Team": "returns"}, body={"a": 1})
    assert first.received[0].headers["authorization"] == "Bearer automation-token"
    [moved] = second.received
    assert (moved.method, moved.body) == ("POST", b'{"a":1}')
    assert "authorization" not in moved.headers and moved.headers["x-team"] == "returns"
    assert verify_standard_webhook(KEY, moved.headers, moved.body)


def test_a_timeout_is_a_readable_error(tmp_path):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    settings = action_settings(tmp_path, http_request_allow_hosts=["hooks.northwind.example"])
    with pytest.raises(ActionError, match="hooks.northwind.example/run did not answer within 5 s"):
        call(tmp_path, settings, http=httpx.Client(transport=httpx.MockTransport(slow)), method="GET",
             url="https://hooks.northwind.example/run", timeout=5)


@pytest.mark.parametrize(("inputs", "reason"), [
    ({"path": "../admin"}, "must be a path below the base URL"),
    ({"path": "jobs/%2e%2e/%2E%2E/admin"}, "must be a path below the base URL"),
    ({"path": "jobs/..%5c..%5cadmin"}, "must be a path below the base URL"),
    ({"path": "jobs/%00"}, "must be a path below the base URL"),
    ({"path": "//evil.example/x"}, "must be a path below the base URL"),
    ({"path": "https://evil.example/x"}, "must be a path below the base URL"),
    ({"url": "https://hooks.northwind.example/x", "headers": {"Host": "evil"}}, "may not set 'Host'"),
    ({"url": "https://hooks.northwind.example/x", "headers": {"webhook-signature": "v1,forged"}},
     "may not set 'webhook-signature'"),
    ({"url": "https://hooks.northwind.example/x", "headers": {"X-A": "a\r\nX-B: b"}}, "line break or NUL"),
    ({"url": "https://hooks.northwind.example/x", "headers": {"Bad Name": "a"}}, "may not set 'Bad Name'"),
    ({"url": "javascript:alert(1)"}, "is not an http\\(s\\) URL"),
    ({"url": "file:///etc/passwd"}, "is not an http\\(s\\) URL"),
])
def test_hostile_inputs_are_refused_with_a_reason(tmp_path, inputs, reason):
    settings = action_settings(tmp_path, http_request_allow_hosts=["hooks.northwind.example"],
                               http_request_base_url="https://hooks.northwind.example/api")
    never = httpx.Client(transport=httpx.MockTransport(lambda request: pytest.fail("no request expected")))
    with pytest.raises(ActionError, match=reason):
        call(tmp_path, settings, http=never, method="POST", **inputs)


def test_a_path_without_a_base_url_says_which_setting_is_missing(tmp_path):
    with pytest.raises(ActionError, match="input.path needs FLOWPORT_HTTP_REQUEST_BASE_URL"):
        call(tmp_path, action_settings(tmp_path), method="GET", path="/x")


@pytest.mark.parametrize("inputs", [
    {"url": "https://x"}, {"method": "TRACE", "url": "https://x"}, {"method": "GET"},
    {"method": "GET", "url": "https://x", "path": "/x"}, {"method": "GET", "url": "https://x", "timeout": 10**20},
    {"method": "GET", "url": "https://x", "headers": {"a": 5}}, {"method": "GET", "url": "https://x", "extra": 1},
])
def test_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    with pytest.raises(ActionInputError):
        validate_action_input(HttpRequest(), inputs, "step")
