"""Ignored deliveries can be replayed: the current plugin decides again, so an incident.reopened that an
earlier version filed as ignored (only triggered/acknowledged/resolved were used) is processed after the
fix and reopens its incident (fixtures: pagerduty/zulip-fixtures/*_v3.json)."""

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from portal.audit.models import AuditEvent
from portal.flow.models import FlowIncident
from portal.webhooks.models import WebhookDelivery
from tests.webhooks.support import all_rows, at
from tests.webhooks.test_normalize_pagerduty import app, event_of, incidents, post, process  # noqa: F401

STORY = [("triggered_v3.json", "2021-06-04T13:35:29.781Z", "triggered"),
         ("resolved_v3.json", "2021-06-04T14:05:00Z", "resolved"),
         ("reassigned_v3.json", "2021-06-04T15:00:00Z", "triggered")]


def file_as_the_old_version_did(engine) -> int:
    """The reopen delivery as the previous version stored it: ignored, never normalized."""
    [reopen] = [row for row in all_rows(engine, WebhookDelivery) if row.event_type == "incident.reopened"]
    with Session(engine) as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == reopen.id).values(status="ignored"))
        session.commit()
    return reopen.id


def post_story(app) -> None:
    events = [event_of(name, "PIGNORED1", when, status=status) for name, when, status in STORY]
    events[2]["event"]["event_type"] = "incident.reopened"
    post(app, *events[:2])
    process(app)
    post(app, events[2])


def test_a_replayed_ignored_reopen_is_processed_and_reopens_the_incident(app, engine):
    post_story(app)
    reopen_id = file_as_the_old_version_did(engine)
    process(app)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("resolved", at("2021-06-04T14:05:00+00:00"))  # still wrong

    with TestClient(app) as client:
        response = client.post(f"/api/v1/webhooks/deliveries/{reopen_id}/replay")
        assert response.status_code == 202 and response.json()["status"] == "pending"
    report = process(app)
    assert (report.processed, report.ignored, report.failed) == (1, 0, 0)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    [row] = [row for row in all_rows(engine, WebhookDelivery) if row.id == reopen_id]
    assert (row.status, row.last_error) == ("processed", None)


def test_replay_since_includes_ignored_deliveries(app, engine):
    post_story(app)
    file_as_the_old_version_did(engine)
    with TestClient(app) as client:
        response = client.post("/api/v1/webhooks/replay", json={"since": "2000-01-01T00:00:00Z", "source": "pagerduty"})
        assert response.status_code == 202 and response.json()["replayed"] == 3
    report = process(app)
    assert (report.processed, report.failed) == (3, 0)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("triggered", None)


def test_replay_keeps_its_permission_and_audit(app, engine):
    post_story(app)
    reopen_id = file_as_the_old_version_did(engine)
    with TestClient(app) as client:
        assert client.post(f"/api/v1/webhooks/deliveries/{reopen_id}/replay").status_code == 202
        app.state.policy.allow_anonymous_changes = False
        assert client.post(f"/api/v1/webhooks/deliveries/{reopen_id}/replay").status_code == 401
    actions = [(row.action, row.outcome) for row in all_rows(engine, AuditEvent)]
    assert ("admin.webhooks.replay", "succeeded") in actions and ("admin.webhooks.replay", "denied") in actions
    assert len(all_rows(engine, FlowIncident)) == 1


def test_the_delivery_page_offers_replay_for_an_ignored_delivery(app, engine):
    post_story(app)
    reopen_id = file_as_the_old_version_did(engine)
    with TestClient(app) as client:
        page = client.get(f"/admin/webhooks/{reopen_id}").text
    assert f'action="/api/v1/webhooks/deliveries/{reopen_id}/replay"' in page and "Replay this delivery" in page
