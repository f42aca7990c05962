"""GitLab incident issues as incidents (fixtures gitlab/go-gitlab/issue.json, gitlab/go-scm/issue_closed.json):
a reopen clears the resolution, the final close sets it, in any order; who opened an issue or merge
request is never the user who closed or merged it; malformed merge request hooks fail with the key named."""

import copy

import pytest
from sqlmodel import Session

from portal.flow.models import FlowChange, FlowIncident, FlowIncidentEvent, FlowWorkItem, FlowWorkItemTransition
from portal.webhooks.models import WebhookDelivery
from tests.webhooks.support import all_rows, at
from tests.webhooks.test_normalize_gitlab import app, deliver, fixture  # noqa: F401

OPENED_AT = "2017-12-10 16:37:38 UTC"


def incident_hook(action: str, state: str, updated: str, closed_at: str | None, **attributes) -> dict:
    """go-scm's issue_closed.json turned into an incident's open/close/reopen hook at `updated`."""
    hook = copy.deepcopy(fixture("go-scm/issue_closed.json"))
    hook["object_attributes"].update(type="Incident", action=action, state=state, updated_at=updated,
                                     closed_at=closed_at, severity="critical", **attributes)
    hook["changes"] = {}
    return hook


OPEN = incident_hook("open", "opened", OPENED_AT, None)
CLOSE = incident_hook("close", "closed", "2017-12-10 16:41:28 UTC", "2017-12-10 16:41:28 UTC")
# GitLab keeps the old closed_at on a reopened issue in some versions: it must not count as resolved.
REOPEN = incident_hook("reopen", "opened", "2017-12-10 18:00:00 UTC", "2017-12-10 16:41:28 UTC")
CLOSE_AGAIN = incident_hook("close", "closed", "2017-12-10 20:15:00 UTC", "2017-12-10 20:15:00 UTC")


def issue_hooks(*hooks: dict) -> list[tuple[str, dict]]:
    return [("Issue Hook", hook) for hook in hooks]


def test_the_closed_fixture_as_an_incident_is_resolved_at_its_close(app, engine):
    deliver(app, *issue_hooks(incident_hook("close", "closed", "2017-12-10 16:41:28 UTC", "2017-12-10 16:41:28 UTC")))
    [incident] = all_rows(engine, FlowIncident)
    assert incident.id == "gitlab:gitlab-org/hello-world#1"
    assert (incident.status, incident.severity, incident.title) == ("resolved", "critical", "found a bug")
    assert incident.created_at == at("2017-12-10T16:37:38+00:00")
    assert incident.resolved_at == at("2017-12-10T16:41:28+00:00")
    assert (incident.link_annotation, incident.link_value) == ("gitlab.com/project-slug", "gitlab-org/hello-world")


def test_reopen_clears_the_resolution_until_the_final_close(app, engine):
    deliver(app, *issue_hooks(OPEN, CLOSE, REOPEN))
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.status_category, item.resolved_at) == ("open", "todo", None)
    deliver(app, *issue_hooks(CLOSE_AGAIN))
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("resolved", at("2017-12-10T20:15:00+00:00"))
    assert incident.created_at == at("2017-12-10T16:37:38+00:00")
    events = sorted(all_rows(engine, FlowIncidentEvent), key=lambda row: row.at)
    assert [(row.event, row.status) for row in events] == [
        ("open", "triggered"), ("close", "resolved"), ("reopen", "triggered"), ("close", "resolved")]


@pytest.mark.parametrize("order", [(3, 2, 1, 0), (0, 2, 3, 1)], ids=["reversed", "shuffled"])
def test_out_of_order_hooks_end_at_the_final_close(app, engine, order):
    hooks = [OPEN, CLOSE, REOPEN, CLOSE_AGAIN]
    for index in order:
        deliver(app, *issue_hooks(hooks[index]))
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("resolved", at("2017-12-10T20:15:00+00:00"))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status_category, item.resolved_at) == ("done", at("2017-12-10T20:15:00+00:00"))


def test_a_confidential_incident_issue_is_an_incident_too(app, engine):
    report = deliver(app, ("Confidential Issue Hook", CLOSE))
    assert (report.processed, report.failed) == (1, 0)
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("resolved", at("2017-12-10T16:41:28+00:00"))


def test_a_late_close_does_not_resolve_a_reopened_incident(app, engine):
    deliver(app, *issue_hooks(OPEN, REOPEN))
    deliver(app, *issue_hooks(CLOSE))
    [incident] = all_rows(engine, FlowIncident)
    assert (incident.status, incident.resolved_at) == ("triggered", None)


def test_an_incident_label_marks_an_incident_and_plain_issues_are_not(app, engine):
    labelled = copy.deepcopy(fixture("go-scm/issue_closed.json"))
    labelled["labels"].append({"id": 9, "title": "Incident", "type": "ProjectLabel"})
    plain = copy.deepcopy(fixture("go-scm/issue_closed.json"))
    plain["object_attributes"]["iid"] = 2
    deliver(app, *issue_hooks(labelled, plain))
    assert [row.id for row in all_rows(engine, FlowIncident)] == ["gitlab:gitlab-org/hello-world#1"]
    assert len(all_rows(engine, FlowWorkItem)) == 2


def test_the_closer_is_not_the_issue_author(app, engine):
    # issue_closed.json: sytses closed an issue written by author 51764.
    deliver(app, *issue_hooks(fixture("go-scm/issue_closed.json")))
    [item] = all_rows(engine, FlowWorkItem)
    assert item.author is None
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert (transition.to_status, transition.author) == ("closed", "sytses")  # who made the transition


def test_the_author_of_an_opened_issue_is_the_user_when_the_ids_match(app, engine):
    opened = copy.deepcopy(fixture("go-gitlab/issue.json"))  # user id 1 opened it, author_id 51
    mine = copy.deepcopy(opened)
    mine["object_attributes"].update(iid=24, author_id=opened["user"]["id"])
    deliver(app, *issue_hooks(opened, mine))
    authors = {row.key.rsplit("#", 1)[1]: row.author for row in all_rows(engine, FlowWorkItem)}
    assert authors == {"23": None, "24": opened["user"]["username"]}


def test_a_merge_request_opened_by_someone_else_has_no_author(app, engine):
    # go-gitlab merge_request.json: the hook's user (id 1) is not its author (author_id 51).
    deliver(app, ("Merge Request Hook", fixture("go-gitlab/merge_request.json")))
    [change] = all_rows(engine, FlowChange)
    assert change.author is None


def _without(key: str) -> dict:
    hook = copy.deepcopy(fixture("go-gitlab/merge_request.json"))
    del hook["object_attributes"][key]
    return hook


@pytest.mark.parametrize(("hook", "message"), [
    ({k: v for k, v in fixture("go-gitlab/merge_request.json").items() if k != "object_attributes"},
     "GitLab merge request hook: `object_attributes` is missing"),
    ({**fixture("go-gitlab/merge_request.json"), "object_attributes": None},
     "GitLab merge request hook: `object_attributes` is null, not an object"),
    (_without("iid"), "GitLab merge request hook object_attributes: `iid` is missing"),
    ({**fixture("go-gitlab/merge_request.json"),
      "object_attributes": {**fixture("go-gitlab/merge_request.json")["object_attributes"], "iid": {"n": 1}}},
     "GitLab merge request hook object_attributes: `iid` is an object, not an id"),
], ids=["no-object_attributes", "object_attributes-null", "no-iid", "iid-object"])
def test_a_malformed_merge_request_fails_with_the_key_named(app, engine, hook, message):
    good = copy.deepcopy(fixture("go-scm/pull_request_merge.json"))
    report = deliver(app, ("Merge Request Hook", hook), ("Merge Request Hook", good))
    assert (report.processed, report.failed) == (1, 1)
    failed = [row for row in all_rows(engine, WebhookDelivery) if row.status == "failed"]
    assert len(failed) == 1
    assert failed[0].last_error == f"MalformedPayload: {message}"
    assert "KeyError" not in failed[0].last_error
    # The good delivery beside it is stored.
    assert [change.id for change in all_rows(engine, FlowChange)] == ["gitlab:gitlab-org/hello-world!1"]
