"""CDEvents (v0.3 and v0.5, binary and structured CloudEvents) through the intake and worker into records."""

import copy
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from flowport_cdevents.normalize import cdevent_of, normalize_event
from portal.app import create_app
from portal.flow.models import (
    FlowChange,
    FlowDeployment,
    FlowIncident,
    FlowPipelineRun,
    FlowWorkItem,
    FlowWorkItemTransition,
)
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.signatures import sign_standard_webhook
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows

WHSEC = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CDEVENTS = FIXTURES / "cdevents"
SPEC_TIME = datetime(2023, 3, 20, 14, 27, 5, 315384, tzinfo=UTC)  # the conformance examples' timestamp


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_CDEVENTS_WEBHOOK_SECRET", WHSEC)
    return create_app(settings)


def fixture(path: str) -> dict:
    return json.loads((CDEVENTS / path).read_bytes())


def signed(body: bytes) -> dict:
    message_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
    return {"webhook-id": message_id, "webhook-timestamp": str(now),
            "webhook-signature": sign_standard_webhook(WHSEC, message_id, now, body)}


def binary(event: dict) -> tuple[bytes, dict]:
    """Binary mode: the CDEvent is the body, the CloudEvent attributes are ce-* headers."""
    body = json.dumps(event).encode()
    context = event["context"]
    return body, {"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": context["id"],
                  "ce-source": context["source"], "ce-type": context["type"]}


def structured(event: dict) -> tuple[bytes, dict]:
    """Structured mode: a CloudEvents JSON envelope with the CDEvent as its data."""
    context = event["context"]
    envelope = {"specversion": "1.0", "id": context["id"], "source": context["source"], "type": context["type"],
                "datacontenttype": "application/json", "data": event}
    return json.dumps(envelope).encode(), {"Content-Type": "application/cloudevents+json"}


def bare(event: dict) -> tuple[bytes, dict]:
    """No CloudEvents attributes at all: the CDEvent's own context identifies it."""
    return json.dumps(event).encode(), {"Content-Type": "application/json"}


def deliver(app, *events: dict, mode=binary) -> processing.ProcessReport:
    with TestClient(app) as client:
        for event in events:
            body, headers = mode(event)
            response = client.post("/webhooks/cdevents", content=body, headers={**headers, **signed(body)})
            assert response.status_code == 202, response.text
    return processing.process_all(app.state.engine, app.state.plugins)



def renamed(event: dict, event_id: str | None = None, timestamp: str | None = None, **content) -> dict:
    """A copy with its own context id (CloudEvents are unique by source + id) and time."""
    event = copy.deepcopy(event)
    event["context"]["id"] = event_id or str(uuid.uuid4())
    if timestamp:
        event["context"]["timestamp"] = timestamp
    event["subject"]["content"].update(content)
    return event


@pytest.mark.parametrize("mode", [binary, structured, bare])
def test_pipelinerun_started_then_finished_v05(app, engine, mode):
    started = fixture("spec-v0.5.1/pipelinerun_started.json")
    finished = renamed(fixture("spec-v0.5.1/pipelinerun_finished.json"), timestamp="2023-03-20T14:37:05Z")
    report = deliver(app, started, finished, mode=mode)
    assert (report.processed, report.failed) == (2, 0)
    [run] = all_rows(engine, FlowPipelineRun)
    assert run.id == "cdevents:/event/source/123:mySubject123"
    assert (run.source, run.name, run.status, run.url) == (
        "cdevents", "myPipeline", "failure", "https://www.example.com/mySubject123")
    assert (run.started_at, run.finished_at) == (SPEC_TIME, datetime(2023, 3, 20, 14, 37, 5, tzinfo=UTC))
    assert (run.link_annotation, run.link_value) == ("flowport.dev/cdevents-source", "/event/source/123")


def test_pipelinerun_started_v03_uses_its_url_field(app, engine):
    deliver(app, fixture("spec-v0.3.0/pipelinerun_started.json"))
    [run] = all_rows(engine, FlowPipelineRun)
    assert (run.name, run.status, run.started_at, run.finished_at) == ("myPipeline", "running", SPEC_TIME, None)
    assert run.url == "https://www.example.com/mySubject123"


@pytest.mark.parametrize(("outcome", "status"), [("success", "success"), ("error", "failure"),
                                                 ("cancel", "cancelled"), ("failure", "failure")])
def test_pipelinerun_outcomes(app, engine, outcome, status):
    deliver(app, renamed(fixture("spec-v0.5.1/pipelinerun_finished.json"), outcome=outcome))
    [run] = all_rows(engine, FlowPipelineRun)
    assert run.status == status


@pytest.mark.parametrize("version", ["spec-v0.3.0", "spec-v0.5.1"])
def test_change_created_in_both_versions(app, engine, version):
    deliver(app, fixture(f"{version}/change_created.json"))
    [change] = all_rows(engine, FlowChange)
    assert change.id == "cdevents:/event/source/123:mySubject123"
    assert (change.repository, change.state, change.created_at, change.merged_at) == (
        "TestRepo/TestOrg", "open", SPEC_TIME, None)
    # example.org is not a forge: the change links through its event source.
    assert (change.link_annotation, change.link_value) == ("flowport.dev/cdevents-source", "/event/source/123")


def test_change_created_then_merged_on_github_links_to_the_repository(app, engine):
    repository = {"id": "octo-org/octo-repo", "source": "https://github.com"}
    created = renamed(fixture("spec-v0.5.1/change_created.json"), repository=repository)
    merged = renamed(fixture("spec-v0.5.1/change_merged.json"), timestamp="2023-03-21T09:00:00Z",
                     repository=repository)
    deliver(app, merged, created, mode=structured)  # out of order
    [change] = all_rows(engine, FlowChange)
    assert (change.state, change.created_at) == ("merged", SPEC_TIME)
    assert change.merged_at == datetime(2023, 3, 21, 9, tzinfo=UTC)
    assert (change.link_annotation, change.link_value) == ("github.com/project-slug", "octo-org/octo-repo")


@pytest.mark.parametrize("fixture_path", ["spec-v0.3.0/service_upgraded.json", "spec-v0.5.1/service_deployed.json",
                                          "spec-v0.5.1/service_rolledback.json"])
def test_service_events_are_deployments(app, engine, fixture_path):
    deliver(app, fixture(fixture_path))
    [deployment] = all_rows(engine, FlowDeployment)
    assert deployment.id == "cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819"
    assert (deployment.environment, deployment.tier, deployment.status) == ("test123", "testing", "success")
    assert deployment.ref == ("pkg:oci/myapp@sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427")
    assert deployment.sha is None  # an image digest is not a commit a change could be merged as
    assert deployment.started_at == deployment.finished_at == SPEC_TIME


def test_each_service_event_is_its_own_deployment_and_a_commit_artifact_gives_the_sha(app, engine):
    sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    first = renamed(fixture("spec-v0.5.1/service_deployed.json"), environment={"id": "prod-eu"},
                    artifactId=f"pkg:github/octo-org/octo-repo@{sha}")
    second = renamed(fixture("spec-v0.5.1/service_deployed.json"), environment={"id": "staging"})
    deliver(app, first, second)
    deployments = {d.environment: d for d in all_rows(engine, FlowDeployment)}
    assert set(deployments) == {"prod-eu", "staging"}
    assert (deployments["prod-eu"].tier, deployments["prod-eu"].sha) == ("production", sha)
    assert deployments["staging"].tier == "staging"


def test_incident_detected_then_resolved(app, engine):
    resolved = renamed(fixture("spec-v0.5.1/incident_resolved.json"), timestamp="2022-11-11T14:30:00Z")
    deliver(app, fixture("spec-v0.5.1/incident_detected.json"), resolved)
    [incident] = all_rows(engine, FlowIncident)
    assert incident.id == "cdevents:/monitoring/prod1:incident-123"
    assert (incident.title, incident.status) == ("Response time above threshold of 100ms", "resolved")
    assert incident.created_at == datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)
    assert incident.resolved_at == datetime(2022, 11, 11, 14, 30, tzinfo=UTC)
    assert (incident.link_annotation, incident.link_value) == ("flowport.dev/cdevents-source", "/monitoring/prod1")


def test_incident_resolved_before_detected_in_separate_runs_keeps_both_times(app, engine):
    # Each CDEvent carries only its own moment: the late detected event must still fill created_at.
    resolved = renamed(fixture("spec-v0.5.1/incident_resolved.json"), timestamp="2022-11-11T14:30:00Z")
    deliver(app, resolved)
    deliver(app, fixture("spec-v0.5.1/incident_detected.json"))
    [incident] = all_rows(engine, FlowIncident)
    assert incident.status == "resolved"
    assert incident.title == "Response time above threshold of 100ms"
    assert incident.created_at == datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)
    assert incident.resolved_at == incident.source_updated_at == datetime(2022, 11, 11, 14, 30, tzinfo=UTC)


def test_ticket_created_then_closed(app, engine):
    closed = renamed(fixture("spec-v0.5.1/ticket_closed.json"), timestamp="2022-11-12T08:00:00Z")
    deliver(app, fixture("spec-v0.5.1/ticket_created.json"), closed)
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.id, item.key, item.title, item.item_type) == (
        "cdevents:/ticketing/system:ticket-123", "ticket-123", "New CVE-123 detected", "task")
    assert (item.status, item.status_category, item.url) == ("closed", "done", "https://example.issues.com/ticket123")
    assert item.created_at == datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)
    assert item.resolved_at == datetime(2022, 11, 12, 8, tzinfo=UTC)
    transitions = sorted(all_rows(engine, FlowWorkItemTransition), key=lambda t: t.at)
    assert [(t.from_status, t.to_status, t.author) for t in transitions] == [
        (None, "open", "Alice"), ("open", "closed", "Bob")]


def test_events_flowport_does_not_model_are_ignored_at_intake(app, engine):
    # The conformance examples share one context id: give the second its own.
    report = deliver(app, fixture("spec-v0.5.1/build_finished.json"),
                     renamed(fixture("spec-v0.5.1/environment_created.json")))
    assert report.claimed == 0
    assert {row.status for row in all_rows(engine, WebhookDelivery)} == {"ignored"}


@pytest.mark.parametrize("payload", [
    {}, [], "text", {"data": "not json"}, {"data": {"context": {}}},
    {"context": {"type": "dev.cdevents.change.created.0.4.0"}, "subject": {"content": {}}},  # no subject id
    fixture("spec-v0.5.1/artifact_packaged.json"), fixture("spec-v0.3.0/build_started.json"),
])
def test_unknown_or_partial_payloads_give_nothing(payload):
    assert normalize_event(payload) == []


def test_structured_data_may_arrive_as_a_json_string():
    event = fixture("spec-v0.5.1/change_merged.json")
    assert cdevent_of({"specversion": "1.0", "data": json.dumps(event)}) == event


def test_minimal_events_give_records_with_unknowns():
    subject = {"id": "run-1", "content": {}}
    [run] = normalize_event({"context": {"type": "dev.cdevents.pipelinerun.queued.0.2.0"}, "subject": subject})
    assert (run.values["status"], run.values["name"], run.values["source_updated_at"]) == ("queued", None, None)
    assert run.values["link_annotation"] is None
    [deployment] = normalize_event({"context": {"type": "dev.cdevents.service.deployed.0.2.0", "id": "e1"},
                                    "subject": {"id": "svc", "content": {}}})
    assert (deployment.values["environment"], deployment.values["tier"]) == ("unknown", "other")


@pytest.mark.parametrize(("repository", "link"), [
    ({"url": "https://github.com/Octo-Org/Octo-Repo/tree/main"}, ("github.com/project-slug", "octo-org/octo-repo")),
    ({"viewUrl": "https://gitlab.com/grp/sub/app/-/merge_requests/3"}, ("gitlab.com/project-slug", "grp/sub/app")),
    ({"id": "ignored", "source": "https://github.com", "owner": "octo", "name": "app"},
     ("github.com/project-slug", "octo/app")),
    ({"id": "app", "url": "https://git.example.org/team/app"}, ("flowport.dev/cdevents-source", "/event/source/123")),
])
def test_repository_links(repository, link):
    [change] = normalize_event(renamed(fixture("spec-v0.5.1/change_created.json"), repository=repository))
    assert (change.values["link_annotation"], change.values["link_value"]) == link
