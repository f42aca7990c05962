"""Jira issue webhooks through the intake and the worker into work items and status transitions."""

import copy
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from flowport_jira.normalize import history_transitions, normalize_event
from portal.app import create_app
from portal.flow.models import FlowWorkItem, FlowWorkItemTransition
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows, at, post_and_process

SECRET = "jira-normalize-secret"
JIRA = FIXTURES / "jira/jira-to-matrix"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_JIRA_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


def fixture(path: str) -> dict:
    return json.loads((JIRA / path).read_bytes())


def deliver(app, *payloads: dict | bytes) -> processing.ProcessReport:
    """Post each payload signed the way Jira signs (X-Hub-Signature), then run the worker."""
    bodies = [payload if isinstance(payload, bytes) else json.dumps(payload).encode() for payload in payloads]
    return post_and_process(app, "/webhooks/jira", [
        (body, {"X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
                "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()})
        for body in bodies
    ])




def test_issue_created(app, engine):
    report = deliver(app, (JIRA / "issue/created.json").read_bytes())
    assert (report.processed, report.failed) == (1, 0)
    [item] = all_rows(engine, FlowWorkItem)
    assert item.id == "jira:jira.test-example.ru:30369"
    assert (item.source, item.key, item.item_type, item.status, item.status_category) == (
        "jira", "BBCOM-1398", "Task", "Open", "todo")
    assert item.title == "Prueba de creación de tareas en un proyecto público"
    assert (item.link_annotation, item.link_value) == ("jira/project-key", "bbcom")
    assert item.url == "https://jira.test-example.ru/jira/browse/BBCOM-1398"
    assert item.created_at == at("2018-01-11T13:08:03.317+03:00")
    assert (item.resolved_at, item.deleted) == (None, False)
    # The changelog only touched "Epic Link": the first status is where the item's flow starts.
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert (transition.from_status, transition.to_status, transition.author) == (None, "Open", "jira_test")
    assert transition.at == at("2018-01-11T13:08:03.317+03:00")


def test_status_changed_fixture_gives_the_transition(app, engine):
    deliver(app, fixture("issue/updated/status-changed.json"))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.key, item.status, item.status_category, item.item_type) == (
        "INDEV-6", "In Progress", "in_progress", "Tarea")
    assert item.link_value == "indev"
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert transition.work_item_id == item.id == "jira:jira.test-example.ru:11442"
    assert (transition.from_status, transition.to_status) == ("To Do", "In Progress")
    # This sender wrote a zone-less local time as `timestamp` ("2019-1-30 15:51:34,870"): it is in the
    # zone of the issue's `updated` (+0300), not UTC.
    assert transition.at == at("2019-01-30T15:51:34.870+03:00")
    assert transition.author == "jira_test"


def status_event(issue_source: dict, epoch_ms: int, from_status: str, to_status: str, category: str,
                 resolved: str | None = None) -> dict:
    """A jira:issue_updated as Jira Cloud sends it: epoch-millisecond timestamp, a status changelog item."""
    payload = copy.deepcopy(issue_source)
    payload["timestamp"] = epoch_ms
    payload["user"] = {"accountId": "5bcede20b3e37a158c364fef", "displayName": "Ana Lima"}
    fields = payload["issue"]["fields"]
    fields["status"] = {"name": to_status, "statusCategory": {"key": category}}
    fields["resolutiondate"] = resolved
    fields["updated"] = datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()
    payload["changelog"] = {"id": str(epoch_ms), "items": [
        {"field": "resolution", "fieldtype": "jira", "fromString": None, "toString": "Done"},
        {"field": "status", "fieldtype": "jira", "fieldId": "status", "fromString": from_status,
         "toString": to_status},
    ]}
    return payload


def test_a_sequence_of_cloud_updates_builds_the_status_history(app, engine):
    base = fixture("issue/updated/status-changed.json")
    started = status_event(base, 1_700_000_000_000, "To Do", "In Progress", "indeterminate")
    done = status_event(base, 1_700_000_600_000, "In Progress", "Done", "done", "2023-11-14T22:23:20.000+0000")
    deliver(app, done, started)  # delivered out of order
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.status_category) == ("Done", "done")
    assert item.resolved_at == at("2023-11-14T22:23:20+00:00")
    transitions = sorted(all_rows(engine, FlowWorkItemTransition), key=lambda t: t.at)
    assert [(t.from_status, t.to_status, t.author) for t in transitions] == [
        ("To Do", "In Progress", "Ana Lima"), ("In Progress", "Done", "Ana Lima")]
    assert transitions[0].at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert transitions[1].at == datetime.fromtimestamp(1_700_000_600, UTC)


def test_a_redelivered_changelog_adds_no_second_transition(app, engine):
    event = status_event(fixture("issue/updated/status-changed.json"), 1_700_000_000_000, "To Do", "Doing",
                         "indeterminate")
    deliver(app, event)
    with Session(engine) as session:
        # The same event delivered under another delivery id (a manual resend) or replayed.
        processing.replay(session, since=datetime(2000, 1, 1, tzinfo=UTC))
        session.commit()
    deliver(app, event)
    assert len(all_rows(engine, FlowWorkItemTransition)) == 1


def test_issue_assigned_updates_the_item_without_a_transition(app, engine):
    deliver(app, fixture("issue/updated/issue-assigned.json"))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.key, item.status, item.item_type) == ("INDEV-242", "To Do", "Story")
    assert all_rows(engine, FlowWorkItemTransition) == []


def test_issue_deleted_marks_the_item(app, engine):
    created = fixture("issue/created.json")
    deleted = copy.deepcopy(created)
    deleted.update({"webhookEvent": "jira:issue_deleted", "issue_event_type_name": None,
                    "timestamp": 1_700_000_000_000})
    deliver(app, created, deleted)
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.key, item.deleted) == ("BBCOM-1398", True)
    assert item.source_updated_at == datetime.fromtimestamp(1_700_000_000, UTC)


def test_comment_events_are_stored_as_ignored(app, engine):
    report = deliver(app, fixture("comment/created.json"))
    assert report.claimed == 0
    [delivery] = all_rows(engine, WebhookDelivery)
    assert delivery.status == "ignored"


@pytest.mark.parametrize(("event_type", "payload"), [
    ("jira:issue_updated", {}), ("jira:issue_updated", {"issue": None}), ("jira:issue_updated", {"issue": {}}),
    ("comment_created", {"issue": {"id": "1", "key": "A-1"}}), ("jira:issue_created", []),
])
def test_payloads_without_an_issue_give_nothing(event_type, payload):
    assert normalize_event(event_type, payload) == []


def test_a_bare_issue_gives_a_record_with_unknowns():
    [item] = normalize_event("jira:issue_updated", {"issue": {"id": "77", "key": "OPS-3"}}, "site-b")
    assert item.values["id"] == "jira:site-b:77"
    assert (item.values["link_value"], item.values["status"], item.values["created_at"]) == ("ops", None, None)


def test_rest_changelog_histories_give_transitions():
    histories = [
        {"created": "2024-02-01T10:00:00.000+0100", "author": {"displayName": "Bo"},
         "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}]},
        {"created": "2024-02-02T10:00:00.000+0100", "author": {"displayName": "Bo"},
         "items": [{"field": "assignee", "fromString": None, "toString": "Bo"}]},
    ]
    [transition] = history_transitions("jira:x:1", histories)
    assert transition.values["to_status"] == "In Progress"
    assert transition.values["at"] == at("2024-02-01T09:00:00+00:00")
