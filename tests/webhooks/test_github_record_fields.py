"""The GitHub record fields found wrong on real payloads, each on the payload that showed it:
a tie between two deployment statuses, a reopened issue's old closed_at, a workflow run named by its
commit title, action_required counted as a failure finishing before it started, the closer as author."""

import copy
import json

import pytest

from portal.flow.models import FlowDeployment, FlowPipelineRun, FlowWorkItem, FlowWorkItemTransition
from tests.conftest import FIXTURES
from tests.plugins.test_github_normalize import app, deliver, fixture  # noqa: F401
from tests.webhooks.support import all_rows, at

ISSUE_CLOSED = FIXTURES / "github/C-Saunders-comment-when-done/issues.closed.json"


def deployment_status(state: str) -> dict:
    """octokit-webhooks deployment_status/payload.json with another state at the very same second."""
    payload = fixture("deployment_status/payload.json")
    payload["deployment_status"]["state"] = state
    return payload


@pytest.mark.parametrize("separately", [True, False], ids=["separate-runs", "one-batch"])
def test_on_a_tie_the_later_lifecycle_state_wins(app, engine, separately):
    # Both statuses say 2019-05-15T15:20:55Z; `in_progress` arrives after `success`.
    events = [("deployment_status", deployment_status("success")),
              ("deployment_status", deployment_status("in_progress"))]
    if separately:
        deliver(app, events[0])
        deliver(app, events[1])
    else:
        deliver(app, *events)
    [deployment] = all_rows(engine, FlowDeployment)
    assert deployment.status == "success"
    assert deployment.finished_at == at("2019-05-15T15:20:55+00:00")


def test_an_unknown_deployment_state_is_unknown_not_pending(app, engine):
    deliver(app, ("deployment_status", deployment_status("exploded")))
    [deployment] = all_rows(engine, FlowDeployment)
    assert (deployment.status, deployment.finished_at) == ("unknown", at("2019-05-15T15:20:55+00:00"))


def reopened_issue(stale_closed_at: bool) -> dict:
    """issues.closed.json as the `reopened` event that followed it."""
    payload = json.loads(ISSUE_CLOSED.read_bytes())
    payload["action"] = "reopened"
    payload["issue"].update(state="open", updated_at="2018-11-18T19:00:00Z",
                            closed_at="2018-11-18T18:42:08Z" if stale_closed_at else None)
    return payload


@pytest.mark.parametrize("stale_closed_at", [False, True], ids=["closed_at-null", "closed_at-stale"])
def test_a_reopened_issue_has_no_resolution(app, engine, stale_closed_at):
    closed = json.loads(ISSUE_CLOSED.read_bytes())
    deliver(app, ("issues", closed))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status_category, item.resolved_at) == ("done", at("2018-11-18T18:42:08+00:00"))
    deliver(app, ("issues", reopened_issue(stale_closed_at)))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.status_category, item.resolved_at) == ("open", "todo", None)


def test_a_late_close_does_not_resolve_a_reopened_issue(app, engine):
    deliver(app, ("issues", reopened_issue(False)))
    deliver(app, ("issues", json.loads(ISSUE_CLOSED.read_bytes())))
    [item] = all_rows(engine, FlowWorkItem)
    assert (item.status, item.resolved_at) == ("open", None)


def test_a_workflow_run_is_named_by_its_workflow_not_its_commit_title(app, engine):
    payload = fixture("workflow_run/completed.payload.json")
    assert payload["workflow_run"]["display_title"].startswith("ci(action)")  # the commit title
    deliver(app, ("workflow_run", payload))
    [run] = all_rows(engine, FlowPipelineRun)
    assert run.name == payload["workflow"]["name"] == "test"
    named = copy.deepcopy(payload)
    named["workflow_run"].update(id=named["workflow_run"]["id"] + 1, name="CI")
    deliver(app, ("workflow_run", named))
    assert sorted(run.name for run in all_rows(engine, FlowPipelineRun)) == ["CI", "test"]


def test_action_required_is_waiting_not_a_failure_finished_before_it_started(app, engine):
    payload = fixture("workflow_run/completed.payload.json")
    # A run waiting for approval: GitHub sets run_started_at when it will run, after its last update.
    payload["workflow_run"].update(conclusion="action_required", run_started_at="2020-10-05T16:40:00Z")
    deliver(app, ("workflow_run", payload))
    [run] = all_rows(engine, FlowPipelineRun)
    assert (run.status, run.finished_at) == ("queued", None)
    assert run.started_at == at("2020-10-05T16:40:00+00:00")


def test_a_finished_run_never_finishes_before_it_starts(app, engine):
    payload = fixture("workflow_run/completed.payload.json")
    payload["workflow_run"]["run_started_at"] = "2020-10-05T16:40:00Z"  # after updated_at 16:33:49
    deliver(app, ("workflow_run", payload))
    [run] = all_rows(engine, FlowPipelineRun)
    assert run.status == "success"
    assert run.started_at <= run.finished_at
    assert (run.started_at, run.finished_at) == (at("2020-10-05T16:33:24+00:00"), at("2020-10-05T16:33:49+00:00"))


def test_an_unknown_conclusion_is_unknown_with_its_finish(app, engine):
    payload = fixture("workflow_run/completed.payload.json")
    payload["workflow_run"]["conclusion"] = "fail"
    deliver(app, ("workflow_run", payload))
    [run] = all_rows(engine, FlowPipelineRun)
    assert (run.status, run.finished_at) == ("unknown", at("2020-10-05T16:33:49+00:00"))


def test_the_author_of_an_issue_is_issue_user_not_the_closer(app, engine):
    payload = json.loads(ISSUE_CLOSED.read_bytes())
    payload["sender"] = {**payload["sender"], "login": "maintainer", "id": 99}  # someone else closed it
    deliver(app, ("issues", payload))
    [item] = all_rows(engine, FlowWorkItem)
    assert item.author == "C-Saunders"
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert (transition.to_status, transition.author) == ("closed", "maintainer")


def test_the_author_of_an_opened_issue(app, engine):
    deliver(app, ("issues", fixture("issues/opened.payload.json")))
    [item] = all_rows(engine, FlowWorkItem)
    [transition] = all_rows(engine, FlowWorkItemTransition)
    assert item.author == transition.author == "Codertocat"
