"""PagerDuty v3 incident events through the intake and the worker into incident records."""

import copy
import hashlib
import hmac
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from flowport_pagerduty.normalize import normalize_event
from portal.app import create_app
from portal.flow.models import FlowIncident
from portal.webhooks import processing
from tests.conftest import FIXTURES
from tests.webhooks.support import at

SECRET = "pd-normalize-secret"
PAGERDUTY = FIXTURES / "pagerduty/zulip-fixtures"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_PAGERDUTY_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


def fixture(name: str) -> dict:
    return json.loads((PAGERDUTY / name).read_bytes())


def post(app, *payloads: dict) -> None:
    """Post each payload signed the way PagerDuty signs v3 webhooks."""
    with TestClient(app) as client:
        for payload in payloads:
            body = json.dumps(payload).encode()
            signature = "v1=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Webhook-Id": str(uuid.uuid4()),
                       "X-PagerDuty-Signature": signature}
            assert client.post("/webhooks/pagerduty", content=body, headers=headers).status_code == 202


def process(app) -> processing.ProcessReport:
    return processing.process_all(app.state.engine, app.state.plugins)


def incidents(engine) -> list[FlowIncident]:
    with Session(engine) as session:
        return session.execute(select(FlowIncident)).scalars().all()



def event_of(name: str, incident_id: str, occurred_at: str, **data) -> dict:
    """A fixture's event re-aimed at one incident, at another time (the fixtures are four incidents)."""
    payload = copy.deepcopy(fixture(name))
    payload["event"]["id"] = str(uuid.uuid4())
    payload["event"]["occurred_at"] = occurred_at
    url = f"https://pig208.pagerduty.com/incidents/{incident_id}"
    payload["event"]["data"].update({"id": incident_id, "html_url": url, **data})
    return payload


TRIGGERED = ("triggered_v3.json", "2021-06-04T13:35:29.781Z")
ACKNOWLEDGED = ("acknowledged_v3.json", "2021-06-04T13:40:00.000Z")
RESOLVED = ("resolved_v3.json", "2021-06-04T14:05:00.000Z")


def test_triggered_fixture(app, engine):
    post(app, fixture("triggered_v3.json"))
    assert process(app).records == 2  # the incident and the first entry of its history
    [incident] = incidents(engine)
    assert incident.id == "pagerduty:PFQZPSY"
    assert (incident.source, incident.title, incident.severity, incident.status) == (
        "pagerduty", "Test Incident 3", "high", "triggered")
    assert (incident.link_annotation, incident.link_value) == ("pagerduty.com/service-id", "pa2p440")
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    assert (incident.acknowledged_at, incident.resolved_at) == (None, None)
    assert incident.url == "https://pig208.pagerduty.com/incidents/PFQZPSY"
    assert incident.source_updated_at == at("2021-06-04T13:35:29.781+00:00")


def test_triggered_acknowledged_resolved_build_one_incident(app, engine):
    post(app, *(event_of(name, "PXYZ123", when, status=name.split("_")[0]) for name, when in
                (TRIGGERED, ACKNOWLEDGED, RESOLVED)))
    process(app)
    [incident] = incidents(engine)
    assert (incident.id, incident.status) == ("pagerduty:PXYZ123", "resolved")
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    assert incident.acknowledged_at == at("2021-06-04T13:40:00+00:00")
    assert incident.resolved_at == at("2021-06-04T14:05:00+00:00")


def test_resolved_after_triggered_in_separate_runs(app, engine):
    post(app, event_of(*TRIGGERED[:1], "PXYZ124", TRIGGERED[1]))
    process(app)
    post(app, event_of(*RESOLVED[:1], "PXYZ124", RESOLVED[1]))
    process(app)
    [incident] = incidents(engine)
    assert incident.status == "resolved"
    assert (incident.created_at, incident.resolved_at) == (at("2021-06-04T13:35:29.781+00:00"),
                                                           at("2021-06-04T14:05:00+00:00"))


@pytest.mark.parametrize("separately", [True, False], ids=["separate-runs", "one-batch"])
def test_resolved_delivered_before_triggered_still_ends_resolved(app, engine, separately):
    # Current v3 payloads carry data.created_at, so even the resolved event knows when it began.
    resolved = event_of(RESOLVED[0], "PXYZ125", RESOLVED[1], created_at="2021-06-04T13:35:29Z")
    triggered = event_of(TRIGGERED[0], "PXYZ125", TRIGGERED[1], created_at="2021-06-04T13:35:29Z")
    post(app, resolved)
    if separately:
        process(app)
    post(app, triggered)
    process(app)
    [incident] = incidents(engine)
    assert incident.status == "resolved"
    assert incident.resolved_at == at("2021-06-04T14:05:00+00:00")
    assert incident.created_at == at("2021-06-04T13:35:29+00:00")
    assert incident.source_updated_at == at("2021-06-04T14:05:00+00:00")


def test_older_payloads_without_created_at_out_of_order_still_get_it(app, engine):
    # The fixtures' shape has no data.created_at: only the late triggered event knows when it began.
    post(app, event_of(RESOLVED[0], "PXYZ127", RESOLVED[1]))
    process(app)
    post(app, event_of(TRIGGERED[0], "PXYZ127", TRIGGERED[1]), event_of(ACKNOWLEDGED[0], "PXYZ127", ACKNOWLEDGED[1]))
    process(app)
    [incident] = incidents(engine)
    assert incident.status == "resolved"
    assert incident.created_at == at("2021-06-04T13:35:29.781+00:00")
    assert incident.acknowledged_at == at("2021-06-04T13:40:00+00:00")
    assert incident.resolved_at == incident.source_updated_at == at("2021-06-04T14:05:00+00:00")


def test_priority_beats_urgency_for_severity(app, engine):
    post(app, event_of(TRIGGERED[0], "PXYZ126", TRIGGERED[1],
                       priority={"id": "P53ZZH5", "type": "priority_reference", "summary": "P1"}))
    process(app)
    [incident] = incidents(engine)
    assert incident.severity == "P1"


def test_unmapped_incident_events_keep_the_known_status():
    [record] = normalize_event(fixture("reassigned_v3.json"))
    assert record.values["status"] == "triggered"  # from data.status
    assert record.values["created_at"] is None


@pytest.mark.parametrize("payload", [
    {}, [], {"event": {"event_type": "service.updated", "data": {"id": "P1", "type": "service"}}},
    {"event": {"event_type": "incident.triggered", "data": None}},
])
def test_payloads_without_an_incident_give_nothing(payload):
    assert normalize_event(payload) == []


def test_a_bare_incident_gives_a_record_with_unknowns():
    [record] = normalize_event({"event": {"event_type": "incident.triggered", "data": {"id": "Q1"}}})
    assert record.values["id"] == "pagerduty:Q1"
    assert (record.values["link_annotation"], record.values["title"], record.values["created_at"]) == (None, None, None)
    assert record.values["status"] == "triggered"
