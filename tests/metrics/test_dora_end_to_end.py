"""From published webhook payloads, through intake and the worker, to the DORA and value APIs."""

import json

import pytest

from portal.app import create_app
from tests.conftest import FIXTURES
from tests.metrics.value_scenario import PRODUCT, seed_catalog, seed_orders
from tests.requests.factories import store
from tests.webhooks.signed import configure_secrets, github, pagerduty
from tests.webhooks.support import post_and_process

GITHUB_PAYLOADS = FIXTURES / "github/octokit-webhooks"
PAGERDUTY_PAYLOADS = FIXTURES / "pagerduty/zulip-fixtures"


def _json(path) -> dict:  # noqa: ANN001
    return json.loads(path.read_bytes())


def _deliveries() -> tuple[list, list]:
    """GitHub: the PR opened, then closed (the published closed payload is unmerged, so it is merged here
    with the deployed sha), the deployment and its success status. PagerDuty: an incident triggered, and
    the published resolve event pointed at that incident two hours later."""
    deployed = _json(GITHUB_PAYLOADS / "deployment_status/payload.json")
    sha = deployed["deployment"]["sha"]
    closed = _json(GITHUB_PAYLOADS / "pull_request/closed.payload.json")
    closed["pull_request"].update(merged=True, merged_at="2019-05-15T15:20:45Z", merge_commit_sha=sha)
    github_bodies = [
        ((GITHUB_PAYLOADS / "pull_request/opened.payload.json").read_bytes(), "pull_request"),
        (json.dumps(closed).encode(), "pull_request"),
        ((GITHUB_PAYLOADS / "deployment/payload.json").read_bytes(), "deployment"),
        (json.dumps(deployed).encode(), "deployment_status"),
    ]
    triggered = _json(PAGERDUTY_PAYLOADS / "triggered_v3.json")
    resolved = _json(PAGERDUTY_PAYLOADS / "resolved_v3.json")
    resolved["event"]["data"]["id"] = triggered["event"]["data"]["id"]
    resolved["event"]["id"] = "01RESOLVEDAFTERTWOHOURS"
    resolved["event"]["occurred_at"] = "2021-06-04T15:35:29.781Z"  # triggered at 13:35:29.781
    pagerduty_bodies = [json.dumps(triggered).encode(), json.dumps(resolved).encode()]
    return ([(body, github(body, event=event)) for body, event in github_bodies],
            [(body, pagerduty(body)) for body in pagerduty_bodies])


@pytest.fixture
def app(settings, monkeypatch):
    configure_secrets(monkeypatch)
    return create_app(settings)


def test_webhooks_to_dora(app, client, session):
    store(session, [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                     "metadata": {"name": "hello-world", "annotations": {
                         "github.com/project-slug": "Codertocat/Hello-World", "pagerduty.com/service-id": "PA2P440"}},
                     "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"}}])
    github_deliveries, pagerduty_deliveries = _deliveries()
    report = post_and_process(app, "/webhooks/github", github_deliveries)
    assert report.failed == 0
    assert post_and_process(app, "/webhooks/pagerduty", pagerduty_deliveries).failed == 0

    may_2019 = client.get("/api/v1/metrics/dora", params={"entity": "hello-world", "from": "2019-05-01T00:00:00Z",
                                                             "until": "2019-06-01T00:00:00Z"}).json()
    # One production deployment (status 15:20:55) in 31 days = 7/31 a week.
    assert may_2019["deploymentFrequency"]["samples"] == 1
    assert may_2019["deploymentFrequency"]["value"] == pytest.approx(7 / 31)
    # The PR (opened 15:20:33, no pushes seen, so from its opening) shipped by that deployment: 22 s,
    # of which 10 s from merge to deployment.
    lead = may_2019["leadTimeForChanges"]
    assert (lead["value"], lead["samples"], lead["tier"]) == (22.0, 1, "elite")
    assert lead["breakdown"]["deploy"]["value"] == 10.0

    june_2021 = client.get("/api/v1/metrics/dora", params={"entity": "hello-world", "from": "2021-06-01T00:00:00Z",
                                                              "until": "2021-07-01T00:00:00Z"}).json()
    # Triggered 13:35:29.781, resolved 15:35:29.781: restored in 2 h; no deployment in the 90 days before
    # it, so no failed deployment and no recovery sample.
    assert june_2021["timeToRestore"] == {"value": 7200.0, "unit": "seconds", "samples": 1, "tier": "high"}
    assert june_2021["failedDeploymentRecoveryTime"]["samples"] == 0
    assert june_2021["deploymentFrequency"]["samples"] == 0


def test_orders_to_value(client, session):
    seed_catalog(session)
    seed_orders(session)
    body = client.get("/api/v1/metrics/value", params={"product": PRODUCT, "from": "2024-05-01T00:00:00Z",
                                                        "until": "2024-07-01T00:00:00Z"}).json()
    assert body["totals"]["sla"]["orders"] == 4
    openapi = client.get("/openapi.json").json()
    for path in ("/api/v1/metrics/dora", "/api/v1/metrics/value", "/api/v1/metrics/impact"):
        assert path in openapi["paths"]
