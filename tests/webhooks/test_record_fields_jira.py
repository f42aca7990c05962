"""Jira (and CDEvents) record fields found wrong on real payloads (jira-to-matrix issue/updated/status-changed.json):
a zone-less changelog timestamp read as UTC, a stale resolutiondate on an open status."""

import json
from datetime import UTC, datetime

import pytest

from flowport_cdevents.normalize import normalize_event
from flowport_jira.normalize import normalize_event as normalize_jira
from portal.flow.models import FlowWorkItem, FlowWorkItemTransition
from tests.conftest import FIXTURES
from tests.webhooks.support import all_rows, at
from tests.webhooks.test_normalize_jira import app  # noqa: F401
from tests.webhooks.test_normalize_jira import deliver as deliver_jira
from tests.webhooks.test_normalize_jira import fixture as jira_fixture


def status_changed(timestamp: object, updated: str = "2017-12-25T16:33:20.100+0300", **fields) -> dict:
    """jira-to-matrix issue/updated/status-changed.json with another `timestamp` and issue times."""
    payload = jira_fixture("issue/updated/status-changed.json")
    payload["timestamp"] = timestamp
    payload["issue"]["fields"].update(updated=updated, **fields)
    return payload


def transition_time(payload: dict) -> datetime:
    [transition] = [r for r in normalize_jira("jira:issue_updated", payload) if r.kind == "transition"]
    return transition.values["at"]


def test_a_zone_less_changelog_timestamp_takes_the_zone_of_the_issue(app, engine):
    deliver_jira(app, status_changed("2017-12-25 16:33:21,396"))
    [transition] = all_rows(engine, FlowWorkItemTransition)
    # 16:33:21 in the issue's +0300, i.e. 13:33:21 UTC (read as UTC it was three hours off).
    assert transition.at == datetime(2017, 12, 25, 13, 33, 21, 396000, tzinfo=UTC)


@pytest.mark.parametrize(("updated", "created", "changelog_created", "expected"), [
    ("2017-12-25T16:33:20.100+0300", None, "2017-12-25T16:33:21.396+0100",
     datetime(2017, 12, 25, 15, 33, 21, 396000, tzinfo=UTC)),
    ("2017-12-25T16:33:20.100Z", None, None, datetime(2017, 12, 25, 16, 33, 21, 396000, tzinfo=UTC)),
    ("2017-12-25T16:33:20", "2017-12-01T10:00:00.000-0500", None,
     datetime(2017, 12, 25, 21, 33, 21, 396000, tzinfo=UTC)),
], ids=["changelog-created-first", "updated-in-utc", "created-when-updated-has-no-zone"])
def test_where_the_zone_comes_from(updated, created, changelog_created, expected):
    payload = status_changed("2017-12-25 16:33:21,396", updated=updated, **({"created": created} if created else {}))
    if changelog_created:
        payload["changelog"]["created"] = changelog_created
    assert transition_time(payload) == expected


def test_without_any_zone_the_issue_update_time_stands_in():
    payload = status_changed("garbled 16:33", updated="2017-12-25T16:33:20.100+0300")
    assert transition_time(payload) == at("2017-12-25T16:33:20.100+03:00")


def test_epoch_timestamps_stay_exact():
    assert transition_time(status_changed(1514208801396)) == datetime(2017, 12, 25, 13, 33, 21, 396000, tzinfo=UTC)


def jira_status(name: str, category: str, resolutiondate: str | None, timestamp: int) -> dict:
    payload = jira_fixture("issue/updated/status-changed.json")
    payload["timestamp"] = timestamp
    fields = payload["issue"]["fields"]
    fields["status"] = {**fields["status"], "name": name,
                        "statusCategory": {**fields["status"]["statusCategory"], "key": category}}
    fields.update(resolutiondate=resolutiondate, updated=datetime.fromtimestamp(timestamp / 1000, UTC).isoformat())
    payload["changelog"]["items"][0].update(toString=name)
    return payload


def test_a_paused_issue_with_a_stale_resolutiondate_is_not_resolved(app, engine):
    deliver_jira(app, jira_status("Done", "done", "2019-01-31T10:00:00.000+0300", 1_548_918_000_000))
    [item] = all_rows(engine, FlowWorkItem)
    assert item.resolved_at == at("2019-01-31T10:00:00+03:00")
    # Moved on to "Paused" (in progress); Jira kept the old resolutiondate.
    deliver_jira(app, jira_status("Paused", "indeterminate", "2019-01-31T10:00:00.000+0300", 1_548_990_000_000))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.status_category, item.resolved_at) == ("Paused", "in_progress", None)


def test_the_jira_reporter_is_the_author():
    records = normalize_jira("jira:issue_created", jira_fixture("issue/created.json"))
    [item] = [r for r in records if r.kind == "work_item"]
    fields = jira_fixture("issue/created.json")["issue"]["fields"]
    assert item.values["author"] == (fields["reporter"].get("name") or fields["reporter"].get("displayName"))




def test_an_unknown_cdevents_outcome_is_unknown_not_success():
    # cdevents/spec-v0.5.1/pipelinerun_finished.json with an outcome outside the spec's list.
    event = json.loads((FIXTURES / "cdevents/spec-v0.5.1/pipelinerun_finished.json").read_bytes())
    event["subject"]["content"]["outcome"] = "fail"
    [run] = normalize_event(event)
    assert run.values["status"] == "unknown" and run.values["finished_at"] is not None


def test_a_cdevents_ticket_author_is_its_creator_not_its_closer():
    # cdevents/spec-v0.5.1/ticket_closed.json: created by Alice, closed (updatedBy) by Bob.
    event = json.loads((FIXTURES / "cdevents/spec-v0.5.1/ticket_closed.json").read_bytes())
    item, transition = normalize_event(event)
    assert (item.values["author"], transition.values["author"]) == ("Alice", "Bob")
