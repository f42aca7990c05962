"""End to end: real Jira webhooks and an imported request history, then the metrics API and the pages."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid

import pytest

from portal.app import create_app
from tests.conftest import FIXTURES
from tests.flow.factories import make_component
from tests.requests.factories import seed_request_catalog
from tests.requests.test_history_import import IDEA, ORDER, _line
from tests.test_cli import run_cli
from tests.webhooks.support import post_and_process

SECRET = "e2e-jira-secret"
STATUS_CHANGED = FIXTURES / "jira/jira-to-matrix/issue/updated/status-changed.json"
HOUR, DAY = 3600, 86_400


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_JIRA_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


def _signed(body: bytes) -> tuple[bytes, dict]:
    return body, {"X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
                  "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def _resolved_later(original: dict) -> bytes:
    """The same issue moved on to Done two days after the fixture's move, as Jira Cloud would send it."""
    payload = copy.deepcopy(original)
    payload["timestamp"] = 1_548_939_093_199  # 2019-01-31T12:51:33.199Z
    fields = payload["issue"]["fields"]
    fields["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
    fields["resolutiondate"] = "2019-01-31T15:51:33.199+0300"
    fields["updated"] = "2019-01-31T15:51:33.199+0300"
    payload["changelog"] = {"id": "99", "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                                   "fromString": "In Progress", "toString": "Done"}]}
    return json.dumps(payload).encode()


def test_webhooks_and_an_imported_history_reach_the_metrics(app, session, database_url, tmp_path):
    seed_request_catalog(session)
    make_component(session, "indev-service", {"jira/project-key": "INDEV"})
    original = STATUS_CHANGED.read_bytes()
    report = post_and_process(app, "/webhooks/jira", [_signed(original), _signed(_resolved_later(json.loads(original)))])
    assert (report.processed, report.failed) == (2, 0)
    history = tmp_path / "history.jsonl"
    history.write_text(_line(ORDER) + "\n" + _line(IDEA) + "\n", encoding="utf-8")
    imported = run_cli(["requests", "import", str(history)], {"FLOWPORT_DATABASE_URL": database_url})
    assert imported.exit_code == 0, imported.output

    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        # The issue (created 2018-12-05 11:32:11.571Z) went In Progress 2019-01-30 12:51:34.870Z, Done a day later.
        flow = client.get("/api/v1/metrics/flow", params={"entity": "component:default/indev-service",
                                                          "from": "2019-01-01T00:00:00Z", "until": "2019-02-01T00:00:00Z"})
        assert flow.status_code == 200, flow.text
        body = flow.json()
        assert body["velocity"]["finished"] == 1
        created_to_done = (57 * DAY) + (1 * HOUR) + (19 * 60) + 21.628  # 12-05 11:32:11.571 → 01-31 12:51:33.199
        assert body["flowTime"]["p50"] == pytest.approx(created_to_done)
        # In progress from the webhook's own time, "2019-1-30 15:51:34,870" in the issue's +0300 (12:51:34.870Z),
        # to Done at 2019-01-31T12:51:33.199Z: a day less 1.671 s.
        assert body["efficiency"]["ratio"] == pytest.approx((DAY - 1.671) / created_to_done)
        assert body["distribution"]["finished"]["feature"]["items"] == 1  # Tarea (task) is a feature

        # The imported order, by hand: submitted 30 min; fulfilling 30 min (20 min recorded) + 1 h
        # (15 min recorded); delivered 22 h + 13 d 3 h; in-use 12 days; back to fulfilling once.
        stream = client.get("/api/v1/metrics/value-stream", params={
            "capability": "ci-pipeline", "from": "2025-01-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"})
        stages = {stage["id"]: stage for stage in stream.json()["stages"]}
        assert stages["submitted"]["leadTime"] == 30 * 60
        assert (stages["fulfilling"]["leadTime"], stages["fulfilling"]["processTime"]) == (90 * 60, 35 * 60)
        assert stages["fulfilling"]["percentCompleteAccurate"] == 0.5
        assert stages["delivered"]["leadTime"] == 22 * HOUR + 13 * DAY + 3 * HOUR
        assert stages["in-use"]["leadTime"] == 12 * DAY
        assert stream.json()["totals"]["rolledPercentCompleteAccurate"] == 0.5

        ideas = client.get("/api/v1/metrics/flow", params={"product": "delivery-platform", "kind": "idea",
                                                           "from": "2025-02-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"})
        assert ideas.json()["load"]["wip"] == 1  # the imported idea, triaged

        # The pages that show these records: the entity's page and the product's page answer without errors.
        page = client.get("/catalog/default/component/indev-service")
        assert page.status_code == 200 and "indev-service" in page.text
        assert client.get("/products/delivery-platform").status_code == 200

        # The product's metrics page shows the same value stream as the API, for the same window in its URL.
        window = {"window": "custom", "from": "2025-01-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"}
        twin = client.get("/products/delivery-platform/metrics", params=window, headers={"accept": "application/json"})
        assert twin.status_code == 200, twin.text
        drawn = {stage["id"]: stage for stage in twin.json()["valueStream"]["stages"]}
        assert drawn["in-use"]["leadTime"] == 12 * DAY and drawn["submitted"]["leadTime"] == 30 * 60
        html = client.get("/products/delivery-platform/metrics", params=window, headers={"accept": "text/html"})
        assert html.status_code == 200 and "<svg" in html.text and "Value stream" in html.text
        stream_csv = client.get("/products/delivery-platform/metrics",
                                params={**window, "chart": "value-stream", "format": "csv"})
        assert stream_csv.status_code == 200 and "in-use" in stream_csv.text
        # The component's metrics tab answers for the same window (no deployments here: no DORA samples).
        tab = client.get("/catalog/default/component/indev-service/metrics", params=window,
                         headers={"accept": "application/json"})
        assert tab.status_code == 200, tab.text
        assert tab.json()["dora"]["deploymentFrequency"]["samples"] == 0
