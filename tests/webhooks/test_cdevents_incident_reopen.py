"""CDEvents incidents (fixtures cdevents/spec-v0.5.1/incident_detected.json and incident_resolved.json):
a `detected` newer than the resolution reopens the incident, the final `resolved` closes it, whatever
order the events arrive in; each event is kept in the incident's history."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from portal.flow.models import FlowIncident, FlowIncidentEvent
from tests.webhooks.support import all_rows
from tests.webhooks.test_normalize_cdevents import app, deliver, fixture, renamed  # noqa: F401

DETECTED = fixture("spec-v0.5.1/incident_detected.json")  # 2022-11-11T13:52:20.079Z
RESOLVED = renamed(fixture("spec-v0.5.1/incident_resolved.json"), timestamp="2022-11-11T14:30:00Z")
DETECTED_AGAIN = renamed(DETECTED, timestamp="2022-11-11T15:10:00Z", description="Response time above 100ms again")
RESOLVED_AGAIN = renamed(fixture("spec-v0.5.1/incident_resolved.json"), timestamp="2022-11-11T16:00:00Z")
FIRST_DETECTION = datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)


def test_a_detection_after_the_resolution_reopens_the_incident(app, engine):
    deliver(app, DETECTED, RESOLVED, DETECTED_AGAIN)
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    assert incident.created_at == FIRST_DETECTION  # the reopening detection does not move the start
    assert incident.title == "Response time above 100ms again"
    deliver(app, RESOLVED_AGAIN)
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("resolved", datetime(2022, 11, 11, 16, tzinfo=UTC))
    assert incident.created_at == FIRST_DETECTION


@pytest.mark.parametrize("order", [(2, 1, 0), (1, 2, 0), (0, 2, 1)], ids=lambda o: "-".join(map(str, o)))
def test_the_reopen_holds_in_any_delivery_order(app, engine, order):
    events = [DETECTED, RESOLVED, DETECTED_AGAIN]
    for index in order:
        deliver(app, events[index])
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at, incident.created_at) == ("triggered", None, FIRST_DETECTION)


def test_the_history_shows_the_reopen(app, engine):
    deliver(app, DETECTED, RESOLVED, DETECTED_AGAIN, RESOLVED_AGAIN)
    assert len(all_rows(engine, FlowIncidentEvent)) == 4
    with TestClient(app) as client:
        history = client.get("/api/v1/flow/incidents/cdevents:/monitoring/prod1:incident-123/history").json()
    assert [(entry["event"], entry["change"]) for entry in history["items"]] == [
        ("detected", "opened"), ("resolved", "resolved"), ("detected", "reopened"), ("resolved", "resolved")]
    assert history["resolvedAt"] == "2022-11-11T16:00:00Z"
