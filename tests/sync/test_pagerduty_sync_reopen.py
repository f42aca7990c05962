"""PagerDuty pull sync (REST GET /incidents, stubbed with incidents shaped like the zulip v3 fixtures'
`data`): an incident resolved on one run and reopened by the next loses its resolution, and its
history shows the reopen."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from flowport_pagerduty import PagerDutyConfig, PagerDutyPlugin
from portal.flow.models import FlowIncident
from tests.sync.conftest import link_component
from tests.sync.test_other_tools import pd_incident, rows, run


def answer(incidents: list[dict]):
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"incidents": incidents, "limit": 100, "offset": 0, "more": False,
                                         "total": None})
    return handle


def test_a_reopen_seen_by_pull_sync_clears_the_resolution(engine, app):
    link_component(engine, "pig", {"pagerduty.com/service-id": "PA2P440"})
    plugin = PagerDutyPlugin(PagerDutyConfig(token="pd-key"))
    resolved = pd_incident(1, "resolved", "2024-03-01T10:00:00Z")
    resolved.update(updated_at="2024-03-01T10:30:00Z", last_status_change_at="2024-03-01T10:30:00Z")
    assert run(engine, plugin, answer([resolved])).ok
    [incident] = rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at.isoformat()) == ("resolved", "2024-03-01T10:30:00+00:00")

    reopened = pd_incident(1, "triggered", "2024-03-01T10:00:00Z")
    reopened.update(updated_at="2024-03-01T11:00:00Z", last_status_change_at="2024-03-01T11:00:00Z")
    assert run(engine, plugin, answer([reopened])).ok
    [incident] = rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    assert incident.created_at.isoformat() == "2024-03-01T10:00:00+00:00"
    with TestClient(app) as client:
        history = client.get("/api/v1/flow/incidents/pagerduty:Q00001/history").json()["items"]
    assert [(entry["status"], entry["change"]) for entry in history] == [
        ("triggered", "opened"), ("resolved", "resolved"), ("triggered", "reopened")]
