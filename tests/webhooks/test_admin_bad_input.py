"""The inbox's admin API and pages answer bad ids, limits, cursors and filters with a 4xx, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.webhooks import signed

BEYOND_64_BITS = ["99999999999999999999", str(2**63), str(2**64 + 1)]
# 2**31 is beyond PostgreSQL's INTEGER id column, 2**63 beyond SQLite's.
NO_SUCH_ID = [*BEYOND_64_BITS, str(2**63 - 1), str(2**31), "0", "-1", "-9223372036854775809"]


@pytest.fixture
def client(settings, monkeypatch):
    signed.configure_secrets(monkeypatch)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def deliver(client: TestClient, delivery_id: str) -> None:
    body = signed.PAYLOADS["github"].read_bytes()
    assert client.post("/webhooks/github", content=body, headers=signed.github(body, delivery_id)).status_code == 202


def cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("delivery_id", NO_SUCH_ID)
def test_ids_no_delivery_can_have_are_404_everywhere(client, delivery_id):
    assert client.get(f"/api/v1/webhooks/deliveries/{delivery_id}").status_code == 404
    assert client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay").status_code == 404
    assert client.get(f"/admin/webhooks/{delivery_id}").status_code == 404


@pytest.mark.parametrize("delivery_id", ["abc", "1.5", "1e3", "%00"])
def test_ids_that_are_not_numbers_are_400(client, delivery_id):
    assert client.get(f"/api/v1/webhooks/deliveries/{delivery_id}").status_code == 400
    assert client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay").status_code == 400


@pytest.mark.parametrize("query", [
    "limit=9223372036854775807", "limit=99999999999999999999", "limit=-1", "limit=0", "limit=abc",
    "cursor=" + cursor({"v": 1, "at": 2**70}), "cursor=" + cursor({"v": 1, "at": 2**63}), "cursor=" + cursor({"v": 1, "at": -5}),
    "cursor=" + cursor({"v": 1, "at": True}), "cursor=" + cursor({"v": 1, "at": 3, "source": {"a": 1}}),
    "cursor=" + cursor({"v": 1, "at": 3, "status": ["failed"]}), "cursor=%00", "cursor=" + "A" * 5000,
    "source=git%00hub", "source=" + "s" * 300, "status=%00", "status=pending%00",
])
def test_bad_limits_cursors_and_filters_are_400(client, query):
    deliver(client, "d-1")
    response = client.get(f"/api/v1/webhooks/deliveries?{query}")
    assert response.status_code == 400, response.text
    if query.startswith(("cursor", "source", "status")):
        assert client.get(f"/admin/webhooks?{query}").status_code == 400


@pytest.mark.parametrize("body, reason", [
    # A NUL anywhere in an /api body is refused by the request guards before the route reads it.
    ({"since": "2024-05-01T00:00:00Z", "source": "git\u0000hub"}, "NUL character"),
    ({"since": "2024-05-01T00:00:00Z", "source": ["github"]}, "source must be a tool name"),
    ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
    ({"since": "2024-05-01\u0000"}, "NUL character"),
    ({"since": 20240501}, "since is required"),
])
def test_bad_replay_windows_are_400(client, body, reason):
    response = client.post("/api/v1/webhooks/replay", json=body)
    assert response.status_code == 400, response.text
    assert reason in response.text


def test_a_good_cursor_still_pages(client):
    for n in range(3):
        deliver(client, f"d-{n}")
    first = client.get("/api/v1/webhooks/deliveries?limit=2").json()
    second = client.get(f"/api/v1/webhooks/deliveries?cursor={first['pageInfo']['nextCursor']}").json()
    assert [item["deliveryId"] for item in first["items"] + second["items"]] == ["d-2", "d-1", "d-0"]
