"""The in-process inbox worker: it processes what arrives, survives errors and stops with the app."""

import hashlib
import hmac
import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal import background
from portal.app import create_app
from portal.webhooks import worker as worker_module
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.worker import InboxWorker
from tests.conftest import FIXTURES

SECRET = "worker-secret"
PR_OPENED = (FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json").read_bytes()
GENEROUS_WAIT_SECONDS = 15


@pytest.fixture
def worker_app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    settings.run_worker = True
    settings.catalog_refresh_interval = 0  # only the inbox worker runs
    return create_app(settings)


def post_delivery(client) -> int:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
               "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), PR_OPENED, hashlib.sha256).hexdigest()}
    response = client.post("/webhooks/github", content=PR_OPENED, headers=headers)
    assert response.status_code == 202
    return response.json()["id"]


def wait_for_status(engine, delivery_id: int, status: str) -> str:
    """Poll the inbox until the delivery reaches `status` or a generous deadline passes."""
    deadline = time.monotonic() + GENEROUS_WAIT_SECONDS
    current = None
    while time.monotonic() < deadline:
        with Session(engine) as session:
            current = session.get(WebhookDelivery, delivery_id).status
        if current == status:
            break
        time.sleep(0.05)
    return current


def test_the_app_worker_processes_a_posted_delivery(worker_app, engine):
    with TestClient(worker_app) as client:
        worker = worker_app.state.inbox_worker
        assert worker is not None and worker.running
        delivery_id = post_delivery(client)
        assert wait_for_status(engine, delivery_id, "processed") == "processed"
    assert worker_app.state.inbox_worker is None and not worker.running


def test_no_worker_runs_when_the_settings_say_so(app):
    with TestClient(app):
        assert app.state.inbox_worker is None


def test_an_error_is_logged_and_the_loop_goes_on(worker_app, engine, monkeypatch):
    monkeypatch.setattr(background, "ERROR_PAUSE_SECONDS", 0.01)
    real_batch = worker_module.process_batch
    failures = []

    def flaky_batch(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError("database went away")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(worker_module, "process_batch", flaky_batch)
    worker_app.state.settings.run_worker = False  # drive our own worker instead of the app's
    with TestClient(worker_app) as client:
        delivery_id = post_delivery(client)
        worker = InboxWorker(engine, worker_app.state.plugins, idle_seconds=0.05).start()
        try:
            assert wait_for_status(engine, delivery_id, "processed") == "processed"
            assert failures == [1] and worker.running
        finally:
            worker.stop()
    assert not worker.running


def test_stop_wakes_an_idle_worker_at_once(engine):
    from portal.plugins.registry import PluginRegistry

    worker = InboxWorker(engine, PluginRegistry(), idle_seconds=3600).start()
    stopped = threading.Event()
    threading.Thread(target=lambda: (worker.stop(), stopped.set()), daemon=True).start()
    assert stopped.wait(GENEROUS_WAIT_SECONDS)
    assert not worker.running
