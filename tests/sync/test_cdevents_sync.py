"""CDEvents pull sync from an event feed (stubbed, serving the CDEvents spec examples): pages, 304s,
retries, skipped malformed events, the cursor, and records identical to webhook deliveries."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlmodel import Session

from flowport_cdevents import CDEventsConfig, CDEventsPlugin
from portal.app import create_app
from portal.flow.models import FlowChange, FlowDeployment, FlowIncident, FlowPipelineRun
from portal.flow.records import RECORD_TABLES
from portal.plugins.contract import SyncNotSupported
from portal.plugins.registry import build_registry
from portal.settings import Settings
from portal.sync.models import CONNECTION_ROW, SyncStateRow
from portal.sync.runner import run_due_syncs, sync_connection
from portal.webhooks import processing
from portal.webhooks.signatures import sign_standard_webhook
from tests.sync.fake_feed import FEED, FakeFeed, at, cloudevent
from tests.sync.fake_github import FakeClock

WHSEC = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def six_events() -> list:
    """Two pages of three: a pipeline run started then finished, a change, one malformed event
    (no CloudEvents id), a deployment, and an artifact event Flowport does not use."""
    malformed = cloudevent("spec-v0.5.1/incident_detected.json", "evt-4", 4)
    del malformed["id"]
    return [
        cloudevent("spec-v0.3.0/pipelinerun_started.json", "evt-1", 1, subject_id="run-7"),
        cloudevent("spec-v0.5.1/pipelinerun_finished.json", "evt-2", 2, subject_id="run-7"),
        cloudevent("spec-v0.5.1/change_created.json", "evt-3", 3),
        malformed,
        cloudevent("spec-v0.5.1/service_deployed.json", "evt-5", 5),
        cloudevent("spec-v0.5.1/artifact_published.json", "evt-6", 6),
    ]


def plugin(**config) -> CDEventsPlugin:
    return CDEventsPlugin(CDEventsConfig(**{"feed_url": FEED, "token": "feed-token", **config}))


def sync(engine, cdevents, feed, **options):
    clock = FakeClock()
    return asyncio.run(sync_connection(engine, cdevents, transport=feed.transport(), sleep=clock.sleep,
                                       clock=clock, rng=random.Random(5), **options))


def rows(engine, model):
    with Session(engine) as session:
        return session.execute(select(model)).scalars().all()


def state_row(engine, resource: str) -> SyncStateRow:
    with Session(engine) as session:
        return session.execute(select(SyncStateRow).where(SyncStateRow.resource == resource)).scalar_one()


def test_two_pages_a_retried_503_a_skipped_event_then_a_304(engine):
    feed = FakeFeed(six_events(), page_size=3)
    failures = [httpx.Response(503, text="Service Unavailable")]
    feed.interceptors.append(lambda request: failures.pop() if request.url.params.get("page") == "2" and failures
                             else None)
    report = sync(engine, plugin(), feed)

    assert report.ok and report.error is None, report.error
    # Page 1, page 2 (503, then again), then the catch-up read after the newest event (the artifact, at 6).
    assert feed.urls() == ["/cdevents/feed", "/cdevents/feed?page=2", "/cdevents/feed?page=2",
                           "/cdevents/feed?since=2024-05-01T09%3A06%3A00Z"]
    assert report.requests == 4 and report.retries == 1 and report.pages == 3
    assert feed.requests[0].headers["authorization"] == "Bearer feed-token"
    assert feed.requests[0].headers["accept"].startswith("application/cloudevents-batch+json")

    [run] = rows(engine, FlowPipelineRun)
    assert (run.id, run.status, run.link_value) == ("cdevents:/event/source/123:run-7", "failure", "/event/source/123")
    assert run.started_at is not None and run.finished_at is not None
    [change] = rows(engine, FlowChange)
    assert change.id == "cdevents:/event/source/123:mySubject123" and change.state == "open"
    [deployment] = rows(engine, FlowDeployment)
    assert (deployment.id, deployment.environment, deployment.status) == (
        "cdevents:/event/source/123:evt-5", "test123", "success")
    assert rows(engine, FlowIncident) == []  # the malformed incident event was skipped

    assert report.skipped_items == [
        f"event 1 of {FEED}?page=2: a CloudEvent needs id, source and type (ce-* headers in binary mode, "
        "fields in structured mode, or the CDEvent context)"]
    connection = state_row(engine, CONNECTION_ROW)
    assert connection.last_success_at is not None
    assert connection.last_error.startswith("skipped 1 unreadable item: event 1 of")
    assert json.loads(state_row(engine, "events").cursor) == {"since": "2024-05-01T09:06:00+00:00"}

    # Nothing new: the second run repeats the catch-up request conditionally and gets a 304.
    feed.requests.clear()
    again = sync(engine, plugin(), feed)
    assert again.ok and again.requests == 1 and again.not_modified == 1 and again.records == 0
    assert feed.urls() == ["/cdevents/feed?since=2024-05-01T09%3A06%3A00Z"]
    assert feed.requests[0].headers.get("if-none-match")
    assert state_row(engine, CONNECTION_ROW).last_error is None


def test_events_arriving_later_are_read_from_the_cursor(engine):
    feed = FakeFeed(six_events(), page_size=3)
    sync(engine, plugin(), feed)
    feed.events += [cloudevent("spec-v0.5.1/incident_detected.json", "evt-7", 10),
                    cloudevent("spec-v0.5.1/incident_resolved.json", "evt-8", 11)]
    feed.requests.clear()
    report = sync(engine, plugin(), feed)
    assert report.ok
    assert [request.url.params["since"] for request in feed.requests] == [at(6), at(11)]
    [incident] = rows(engine, FlowIncident)
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert json.loads(state_row(engine, "events").cursor) == {"since": "2024-05-01T09:11:00+00:00"}


def test_a_walk_cut_short_by_the_budget_resumes_at_its_next_page(engine):
    feed = FakeFeed(six_events(), page_size=3)
    report = sync(engine, plugin(), feed, budget=1)
    assert report.stopped and "budget of 1" in report.stopped
    saved = json.loads(state_row(engine, "events").cursor)
    assert saved["since"] is None and saved["walk"]["next"] == f"{FEED}?page=2"
    assert len(rows(engine, FlowPipelineRun)) == 1 and rows(engine, FlowDeployment) == []

    feed.requests.clear()
    assert sync(engine, plugin(), feed).ok
    assert feed.urls()[0] == "/cdevents/feed?page=2"
    assert "if-none-match" not in feed.requests[0].headers
    assert len(rows(engine, FlowDeployment)) == 1


def test_pulled_events_give_the_same_records_as_webhook_deliveries(engine, settings, monkeypatch):
    events = [event for event in six_events() if "id" in event]
    monkeypatch.setenv("FLOWPORT_CDEVENTS_WEBHOOK_SECRET", WHSEC)
    app = create_app(settings)
    with TestClient(app) as client:
        for event in events:
            body = json.dumps(event).encode()
            message_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
            signature = sign_standard_webhook(WHSEC, message_id, now, body)
            response = client.post("/webhooks/cdevents", content=body, headers={
                "Content-Type": "application/cloudevents+json", "webhook-id": message_id,
                "webhook-timestamp": str(now), "webhook-signature": signature})
            assert response.status_code == 202, response.text
    processing.process_all(app.state.engine, app.state.plugins)
    from_webhooks = snapshot(engine)
    assert len(from_webhooks) == 3

    with Session(engine) as session:
        for model in RECORD_TABLES.values():
            session.execute(delete(model))
        session.commit()
    assert sync(engine, plugin(), FakeFeed(events)).ok
    assert snapshot(engine) == from_webhooks


def snapshot(engine) -> dict:
    """Every flow row by table and id, without the time it was written."""
    found = {}
    for kind, model in RECORD_TABLES.items():
        for row in rows(engine, model):
            values = row.model_dump(exclude={"updated_at"})
            found[(kind, str(values.get("id")))] = values
    return found


def test_without_a_feed_url_the_connection_does_not_pull(engine):
    webhook_only = CDEventsPlugin(CDEventsConfig())
    with pytest.raises(SyncNotSupported, match="set feed_url"):
        webhook_only.sync(None, None, False)
    feed = FakeFeed(six_events())
    report = sync(engine, webhook_only, feed)
    assert report.error is None and "set feed_url" in report.skipped and feed.requests == []
    with Session(engine) as session:
        row = session.execute(select(SyncStateRow)).scalar_one()
    assert row.last_sync_at is None and row.last_error is None and row.lease_owner is None

    # The schedule asks once, then leaves the connection alone until it is reconfigured.
    registry = build_registry({"FLOWPORT_CDEVENTS_WEBHOOK_SECRET": WHSEC})
    [first] = run_due_syncs(engine, registry, Settings(sync_interval=600), transport=feed.transport())
    assert "set feed_url" in first.skipped
    assert run_due_syncs(engine, registry, Settings(sync_interval=600), transport=feed.transport()) == []
    registry.configure("cdevents", {"name": "default", "feed_url": FEED})
    [pulled] = run_due_syncs(engine, registry, Settings(sync_interval=600), transport=feed.transport())
    assert pulled.ok and pulled.records > 0


def test_feed_url_and_token_come_from_the_environment(engine):
    registry = build_registry({"FLOWPORT_CDEVENTS_FEED_URL": FEED, "FLOWPORT_CDEVENTS_TOKEN": "env-token"})
    connection = registry.connection("cdevents")
    assert connection.config.feed_url == FEED
    feed = FakeFeed(six_events())
    assert sync(engine, connection, feed).ok
    assert feed.requests[0].headers["authorization"] == "Bearer env-token"


def test_a_feed_that_is_not_cloudevents_json_fails_the_run_with_the_reason(engine):
    feed = FakeFeed(six_events())
    feed.interceptors.append(lambda request: httpx.Response(200, text="<html>Sign in</html>",
                                                            headers={"Content-Type": "text/html"}))
    report = sync(engine, plugin(), feed)
    assert report.error == (f"FeedError: {FEED} answered text/html; a CDEvents feed must answer a JSON array "
                            "of CloudEvents (application/cloudevents-batch+json or application/json)")
    assert len(feed.requests) == 1 and rows(engine, FlowChange) == []


def test_a_plain_json_array_of_bare_cdevents_is_read_too(engine):
    bare = [cloudevent("spec-v0.5.1/change_merged.json", "evt-9", 9)["data"], "not an event"]
    feed = FakeFeed(bare)
    feed.content_type = "application/json"
    report = sync(engine, plugin(), feed)
    assert report.ok
    [change] = rows(engine, FlowChange)
    assert change.state == "merged"
    assert report.skipped_items == [f"event 2 of {FEED}: is a JSON str, not an object"]
    assert json.loads(state_row(engine, "events").cursor) == {"since": "2024-05-01T09:09:00+00:00"}


def test_invalid_feed_urls_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="is not an http\\(s\\) URL"):
        CDEventsConfig(feed_url="events.example.com/feed")


def test_events_with_odd_shapes_are_skipped_one_by_one(engine):
    no_data = cloudevent("spec-v0.5.1/change_created.json", "evt-2", 2)
    no_data["data"] = "{truncated"
    no_subject_id = cloudevent("spec-v0.5.1/ticket_created.json", "evt-3", 3)
    del no_subject_id["data"]["subject"]["id"]
    events = [{"context": "not an object"}, no_data, no_subject_id,
              cloudevent("spec-v0.5.1/ticket_closed.json", "evt-4", 4)]
    report = sync(engine, plugin(), FakeFeed(events, page_size=10))
    assert report.ok
    reasons = [item.split(": ", 1)[1] for item in report.skipped_items]
    assert reasons == [
        "a CloudEvent needs id, source and type (ce-* headers in binary mode, fields in structured mode, "
        "or the CDEvent context)",
        "dev.cdevents.change.created.0.4.0 has no CDEvent (context and subject) in its data",
        "dev.cdevents.ticket.created.0.2.0 has no subject id",
    ]
    assert report.skipped_items[1].startswith("event 2 (id evt-2) of ")
    assert "skipped 3 unreadable items" in state_row(engine, CONNECTION_ROW).last_error
