"""Every PagerDuty incident.* event updates its incident: reopen, unacknowledge, reassign, priority …,
in any delivery order, with the history kept (fixtures: pagerduty/zulip-fixtures/*_v3.json)."""

import json

import pytest
from fastapi.testclient import TestClient

from flowport_pagerduty.normalize import normalize_event
from portal.flow.models import FlowIncident, FlowIncidentEvent
from portal.webhooks.models import WebhookDelivery
from tests.webhooks.support import all_rows, at
from tests.webhooks.test_normalize_pagerduty import app, event_of, fixture, incidents, post, process  # noqa: F401

T_TRIGGERED = "2021-06-04T13:35:29.781Z"
T_RESOLVED = "2021-06-04T14:05:00.000Z"
T_REOPENED = "2021-06-04T15:00:00.000Z"
T_RESOLVED_AGAIN = "2021-06-04T16:30:00.000Z"


def lifecycle(incident_id: str, *steps: tuple[str, str, str]) -> list[dict]:
    """Events of one incident: (event type verb, occurred_at, data.status), from the real fixtures' shape."""
    base = {"triggered": "triggered_v3.json", "acknowledged": "acknowledged_v3.json",
            "resolved": "resolved_v3.json"}
    payloads = []
    for verb, when, status in steps:
        payload = event_of(base.get(verb, "reassigned_v3.json"), incident_id, when, status=status)
        payload["event"]["event_type"] = f"incident.{verb}"
        payloads.append(payload)
    return payloads


REOPENED_STORY = (("triggered", T_TRIGGERED, "triggered"), ("resolved", T_RESOLVED, "resolved"),
                  ("reopened", T_REOPENED, "triggered"), ("resolved", T_RESOLVED_AGAIN, "resolved"))


def history(engine, incident_id: str) -> list[tuple]:
    rows = [row for row in all_rows(engine, FlowIncidentEvent) if row.incident_id == incident_id]
    return sorted((row.at, row.event, row.status) for row in rows)


def test_a_reopen_clears_resolved_at_until_the_next_resolution(app, engine):
    first_three = lifecycle("PREOPEN1", *REOPENED_STORY[:3])
    post(app, *first_three)
    process(app)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")

    post(app, *lifecycle("PREOPEN1", REOPENED_STORY[3]))
    process(app)
    [incident] = incidents(engine)
    # Restore time runs to the final resolution, not the first one.
    assert (incident.status, incident.resolved_at) == ("resolved", at("2021-06-04T16:30:00+00:00"))
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    assert [(event, status) for _, event, status in history(engine, "pagerduty:PREOPEN1")] == [
        ("triggered", "triggered"), ("resolved", "resolved"), ("reopened", "triggered"), ("resolved", "resolved")]


@pytest.mark.parametrize("order", [(0, 1, 3, 2), (3, 2, 1, 0), (2, 0, 3, 1)], ids=lambda o: "-".join(map(str, o)))
@pytest.mark.parametrize("separately", [True, False], ids=["separate-runs", "one-batch"])
def test_any_delivery_order_ends_at_the_final_resolution(app, engine, order, separately):
    events = lifecycle("PORDER1", *REOPENED_STORY)
    for index in order:
        post(app, events[index])
        if separately:
            process(app)
    process(app)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("resolved", at("2021-06-04T16:30:00+00:00"))
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    assert incident.source_updated_at == at("2021-06-04T16:30:00+00:00")
    assert len(history(engine, "pagerduty:PORDER1")) == 4


def test_a_late_resolution_never_closes_a_reopened_incident(app, engine):
    events = lifecycle("PLATE1", *REOPENED_STORY[:3])
    post(app, events[0], events[2])  # triggered, reopened …
    process(app)
    post(app, events[1])  # … and the resolution that came before the reopen arrives last
    process(app)
    [incident] = incidents(engine)
    assert (incident.status, incident.resolved_at) == ("triggered", None)


def test_unacknowledged_goes_back_to_triggered_and_keeps_the_first_acknowledgement(app, engine):
    post(app, *lifecycle("PUNACK1", ("triggered", T_TRIGGERED, "triggered"),
                         ("acknowledged", "2021-06-04T13:40:00Z", "acknowledged"),
                         ("unacknowledged", "2021-06-04T13:50:00Z", "triggered")))
    process(app)
    [incident] = incidents(engine)
    assert incident.status == "triggered"
    assert incident.acknowledged_at == at("2021-06-04T13:40:00+00:00")
    assert [event for _, event, _ in history(engine, "pagerduty:PUNACK1")] == [
        "triggered", "acknowledged", "unacknowledged"]


def test_reassigned_fixture_updates_the_assignees():
    [record] = normalize_event(fixture("reassigned_v3.json"))
    assert json.loads(record.values["assignees"]) == ["Test User"]
    assert record.values["status"] == "triggered"


@pytest.mark.parametrize("event_type", [
    "incident.escalated", "incident.priority_updated", "incident.reassigned", "incident.annotated",
    "incident.delegated", "incident.responder.added", "incident.responder.replied",
    "incident.status_update_published", "incident.conference_bridge.updated", "incident.service_updated",
    "incident.custom_field_values.updated",
])
def test_every_incident_event_is_used_and_updates_the_record(app, engine, event_type):
    triggered = event_of("triggered_v3.json", "PANY1", T_TRIGGERED)
    later = event_of("acknowledged_v3.json", "PANY1", "2021-06-04T13:45:00Z", status="acknowledged",
                     priority={"id": "PPRIO1", "type": "priority_reference", "summary": "P1"},
                     title="Checkout is down", assignees=[{"id": "PI9DT01", "summary": "Test User"}],
                     service={"id": "PNEWSVC", "summary": "checkout", "type": "service_reference"})
    later["event"]["event_type"] = event_type
    post(app, triggered, later)
    assert {row.status for row in all_rows(engine, WebhookDelivery)} == {"pending"}  # none ignored
    report = process(app)
    assert report.failed == 0
    [incident] = incidents(engine)
    assert (incident.status, incident.severity, incident.title) == ("acknowledged", "P1", "Checkout is down")
    assert (incident.link_value, json.loads(incident.assignees)) == ("pnewsvc", ["Test User"])
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    # Not a status change: the history holds the trigger only.
    assert [event for _, event, _ in history(engine, "pagerduty:PANY1")] == ["triggered"]


def test_a_replayed_history_adds_nothing(app, engine):
    events = lifecycle("PREPLAY1", *REOPENED_STORY)
    post(app, *events)
    process(app)
    post(app, *events[1:3])  # the same events again (PagerDuty retries with a new delivery id)
    process(app)
    assert len(history(engine, "pagerduty:PREPLAY1")) == 4


def test_the_api_shows_the_history_and_the_final_resolution(app, engine):
    post(app, *lifecycle("PAPI1", *REOPENED_STORY))
    process(app)
    with TestClient(app) as client:
        [item] = client.get("/api/v1/flow/incidents").json()["items"]
        assert (item["status"], item["createdAt"], item["resolvedAt"]) == (
            "resolved", "2021-06-04T13:35:29.781000Z", "2021-06-04T16:30:00Z")
        assert [entry["change"] for entry in item["history"]] == ["opened", "resolved", "reopened", "resolved"]
        assert item["history"][2] == {"at": "2021-06-04T15:00:00Z", "event": "reopened", "status": "triggered",
                                      "change": "reopened", "actor": "PIG 208"}
        one = client.get("/api/v1/flow/incidents/pagerduty:PAPI1/history").json()
        assert one["items"] == item["history"] and one["resolvedAt"] == "2021-06-04T16:30:00Z"
        assert client.get("/api/v1/flow/incidents/pagerduty:NOPE/history").status_code == 404
