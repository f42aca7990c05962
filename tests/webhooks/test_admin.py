"""Operating the inbox: delivery listing and detail (JSON and HTML), replay from the API and the page."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlmodel import Session

from portal.app import create_app
from portal.flow.models import FlowChange
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.web.csrf_support import csrf_headers

SECRET = "admin-secret"
PR_OPENED = FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json"
PING = FIXTURES / "github/octokit-webhooks/ping/payload.json"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def deliver(client, path, event: str) -> int:
    body = path.read_bytes()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202
    return response.json()["id"]


def delivery(engine, delivery_id: int) -> WebhookDelivery:
    with Session(engine) as session:
        return session.get(WebhookDelivery, delivery_id)


def test_replaying_one_delivery_from_the_api_processes_it_again(app, client, engine):
    delivery_id = deliver(client, PR_OPENED, "pull_request")
    assert processing.process_all(engine, app.state.plugins).processed == 1
    with Session(engine) as session:  # someone removed the record; a replay must bring it back
        session.execute(FlowChange.__table__.delete())
        session.commit()
    response = client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay")
    assert response.status_code == 202 and response.json()["replayed"] == 1
    row = delivery(engine, delivery_id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert processing.process_all(engine, app.state.plugins).processed == 1
    assert delivery(engine, delivery_id).status == "processed"
    with Session(engine) as session:
        assert session.execute(select(FlowChange.number)).scalars().all() == [2]


def test_replay_all_since_a_time_for_one_source(app, client, engine):
    ids = [deliver(client, PR_OPENED, "pull_request"), deliver(client, PR_OPENED, "pull_request")]
    processing.process_all(engine, app.state.plugins)
    with Session(engine) as session:  # the first arrived long ago
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == ids[0])
                        .values(received_at=datetime.now(UTC) - timedelta(days=3)))
        session.commit()
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = client.post("/api/v1/webhooks/replay", json={"since": since, "source": "github"})
    assert response.status_code == 202 and response.json()["replayed"] == 1
    assert [delivery(engine, i).status for i in ids] == ["processed", "pending"]
    assert client.post("/api/v1/webhooks/replay", json={"since": since, "source": "gitlab"}).json()["replayed"] == 0


@pytest.mark.parametrize("body, words", [
    ({}, "since is required"), ({"since": "yesterday"}, "since='yesterday' is not a time"),
    ({"since": "2024-01-01T00:00:00Z", "source": 7}, "source must be a tool name"),
])
def test_replay_all_needs_a_valid_since(client, body, words):
    response = client.post("/api/v1/webhooks/replay", json=body)
    assert response.status_code == 400 and words in response.json()["error"]["message"]


def test_replay_is_refused_for_unknown_deliveries_and_an_unused_event_stays_ignored(client, engine, app):
    assert client.post("/api/v1/webhooks/deliveries/999/replay").status_code == 404
    body = json.dumps({"action": "created"}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "star", "X-GitHub-Delivery": "star-1",
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    ignored_id = client.post("/webhooks/github", content=body, headers=headers).json()["id"]
    response = client.post(f"/api/v1/webhooks/deliveries/{ignored_id}/replay")
    assert response.status_code == 202 and response.json() == {"replayed": 1, "id": ignored_id, "status": "pending"}
    report = processing.process_all(engine, app.state.plugins)
    assert (report.processed, report.ignored, report.failed) == (0, 1, 0)
    assert client.get(f"/api/v1/webhooks/deliveries/{ignored_id}").json()["status"] == "ignored"


def test_replay_needs_permission(app, client):
    # In production anonymous changes are not allowed: the authorize gate answers.
    app.state.policy.allow_anonymous_changes = False
    assert client.post("/api/v1/webhooks/deliveries/1/replay").status_code == 401
    assert client.post("/api/v1/webhooks/replay", json={"since": "2024-01-01"}).status_code == 401


def test_deliveries_json_filters_pages_and_never_shows_secrets(app, client, engine):
    ids = [deliver(client, PR_OPENED, "pull_request") for _ in range(3)] + [deliver(client, PING, "ping")]
    processing.process_all(engine, app.state.plugins)
    seen, url = [], "/api/v1/webhooks/deliveries?limit=3"
    while url:
        body = client.get(url).json()
        assert body["totalItems"] == 4
        seen += [item["id"] for item in body["items"]]
        cursor = body["pageInfo"].get("nextCursor")
        url = f"/api/v1/webhooks/deliveries?limit=3&cursor={cursor}" if cursor else None
    assert seen == sorted(ids, reverse=True)
    assert client.get("/api/v1/webhooks/deliveries?status=failed").json()["totalItems"] == 0
    assert client.get("/api/v1/webhooks/deliveries?source=gitlab").json()["items"] == []
    assert client.get("/api/v1/webhooks/deliveries?status=exploded").status_code == 400

    detail = client.get(f"/api/v1/webhooks/deliveries/{ids[0]}").json()
    assert (detail["eventType"], detail["status"], detail["attempts"]) == ("pull_request.opened", "processed", 1)
    assert json.loads(detail["body"])["number"] == 2
    assert detail["headers"]["x-github-event"] == "pull_request"
    assert SECRET not in json.dumps(detail)
    assert not any("signature" in key for key in detail["headers"])
    assert client.get("/api/v1/webhooks/deliveries/999").status_code == 404


def test_the_admin_page_lists_deliveries_with_errors_and_filters(app, client, engine, monkeypatch):
    good = deliver(client, PING, "ping")
    bad = deliver(client, PR_OPENED, "pull_request")
    plugin = app.state.plugins.connection("github")
    original = plugin.normalize
    monkeypatch.setattr(plugin, "normalize", lambda event: (_ for _ in ()).throw(KeyError("head"))
                        if event.event_type.startswith("pull_request") else original(event))
    processing.process_all(engine, app.state.plugins)
    html = client.get("/admin/webhooks", headers={"Accept": "text/html"}).text
    assert "KeyError: &#39;head&#39;" in html
    assert f'action="/api/v1/webhooks/deliveries/{bad}/replay"' in html
    assert f'href="/admin/webhooks/{good}"' in html
    filtered = client.get("/admin/webhooks?status=failed").text
    assert f'href="/admin/webhooks/{bad}"' in filtered and f'href="/admin/webhooks/{good}"' not in filtered
    detail = client.get(f"/admin/webhooks/{bad}").text
    assert "pull_request.opened" in detail and "Codertocat/Hello-World" in detail
    assert client.get("/admin/webhooks/999").status_code == 404


def test_replay_buttons_on_the_page_redirect_back_with_a_notice(app, client, engine):
    delivery_id = deliver(client, PR_OPENED, "pull_request")
    processing.process_all(engine, app.state.plugins)
    # What a browser sends for a form without fields: an empty urlencoded body.
    response = client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay", content=b"",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/webhooks?replayed=1"
    assert delivery(engine, delivery_id).status == "pending"
    processing.process_all(engine, app.state.plugins)
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")  # datetime-local, no zone
    response = client.post("/api/v1/webhooks/replay", data={"since": since, "source": "github"})
    assert response.status_code == 200 and "1 delivery queued for processing again" in response.text
    assert delivery(engine, delivery_id).status == "pending"
    bad = client.post("/api/v1/webhooks/replay", data={"since": "soon"},
                      headers={"Accept": "text/html", **csrf_headers(client)})
    assert bad.status_code == 400 and "is not a time" in bad.text and "<html" in bad.text


def test_the_plugins_page_shows_each_plugins_health(client):
    html = client.get("/admin/plugins", headers={"Accept": "text/html"}).text
    assert "<code>github</code>" in html and "healthy" in html
    assert "none configured" in html  # plugins without a connection
