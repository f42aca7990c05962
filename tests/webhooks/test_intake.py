import hashlib
import hmac
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from portal.app import create_app
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES

SECRET = "It's a Secret to Everybody"
PR_OPENED = (FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json").read_bytes()


@pytest.fixture
def github_client(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", f"old-secret,{SECRET}")
    settings.webhook_max_bytes = 64 * 1024
    with TestClient(create_app(settings)) as client:
        yield client


def signed_headers(body: bytes, event: str = "pull_request", delivery: str | None = None) -> dict:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
    }


def stored(engine) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())


def test_a_signed_delivery_is_stored_before_the_202(github_client, engine):
    headers = signed_headers(PR_OPENED, delivery="d-1")
    response = github_client.post("/webhooks/github", content=PR_OPENED, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    assert response.json()["eventType"] == "pull_request.opened"
    [row] = stored(engine)  # read through a separate connection: it was committed
    assert (row.source, row.connection, row.delivery_id, row.status) == ("github", "default", "d-1", "pending")
    assert row.received_body() == PR_OPENED
    assert "x-hub-signature-256" not in json.loads(row.headers)


def test_a_redelivery_is_acknowledged_once_and_stored_once(github_client, engine):
    headers = signed_headers(PR_OPENED, delivery="same-id")
    first = github_client.post("/webhooks/github", content=PR_OPENED, headers=headers)
    again = github_client.post("/webhooks/github", content=PR_OPENED, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert len(stored(engine)) == 1


def test_events_flowport_does_not_use_are_kept_as_ignored(github_client, engine):
    body = json.dumps({"action": "created", "starred_at": None}).encode()
    response = github_client.post("/webhooks/github", content=body, headers=signed_headers(body, event="star"))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert stored(engine)[0].status == "ignored"


@pytest.mark.parametrize("mutate, status, reason", [
    (lambda h: h.pop("X-Hub-Signature-256"), 401, "missing X-Hub-Signature-256"),
    (lambda h: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}), 401, "does not match"),
    (lambda h: h.update({"Content-Type": "text/plain"}), 415, "not accepted"),
    (lambda h: h.pop("X-GitHub-Delivery"), 400, "X-GitHub-Delivery"),
])
def test_bad_deliveries_get_a_4xx_with_the_reason_and_store_nothing(github_client, engine, mutate, status, reason):
    headers = signed_headers(PR_OPENED)
    mutate(headers)
    response = github_client.post("/webhooks/github", content=PR_OPENED, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["reason"]
    assert stored(engine) == []


def test_an_unparseable_body_is_a_400(github_client, engine):
    body = b"{not json"
    response = github_client.post("/webhooks/github", content=body, headers=signed_headers(body))
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["reason"]


def test_a_body_over_the_limit_is_a_413(github_client, engine):
    body = b'{"padding": "' + b"x" * (70 * 1024) + b'"}'
    response = github_client.post("/webhooks/github", content=body, headers=signed_headers(body))
    assert response.status_code == 413
    assert stored(engine) == []


def test_form_encoded_github_deliveries_are_understood(github_client, engine):
    from urllib.parse import urlencode

    body = urlencode({"payload": PR_OPENED.decode()}).encode()
    headers = {**signed_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    response = github_client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202, response.text


def test_unknown_sources_and_connections_are_404(github_client):
    assert "no plugin handles" in github_client.post("/webhooks/nope", content=b"{}").json()["reason"]
    response = github_client.post("/webhooks/github/other", content=b"{}")
    assert response.status_code == 404
    assert "no github connection named 'other'" in response.json()["reason"]


def test_a_delivery_that_cannot_be_stored_is_a_503_and_nothing_is_acknowledged(github_client, engine, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from portal.webhooks import inbox_writer

    def failing(connection, dialect, rows):  # noqa: ANN001, ANN202
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(inbox_writer, "write_rows", failing)
    response = github_client.post("/webhooks/github", content=PR_OPENED, headers=signed_headers(PR_OPENED))
    assert response.status_code == 503
    assert "please retry" in response.json()["reason"]
    assert stored(engine) == []


def test_the_webhook_routes_stay_in_the_openapi_document(github_client):
    paths = github_client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/webhooks/{source}"] and "post" in paths["/webhooks/{source}/{connection}"]


def test_the_app_freezes_its_start_up_objects_while_it_serves_and_thaws_them_after(settings):
    import gc

    gc.unfreeze()  # whatever an earlier app in this process left
    with TestClient(create_app(settings)):
        assert gc.get_freeze_count() > 0  # kept out of the collector's passes under load
    assert gc.get_freeze_count() == 0  # and collectable again once the app is gone


def test_deliveries_are_counted_under_their_route_template(github_client):
    github_client.post("/webhooks/github", content=PR_OPENED, headers=signed_headers(PR_OPENED))
    github_client.post("/webhooks/github/default", content=PR_OPENED, headers=signed_headers(PR_OPENED))
    metrics = github_client.get("/metrics").text
    assert 'route="/webhooks/{source}",status="202"' in metrics
    assert 'route="/webhooks/{source}/{connection}",status="202"' in metrics
