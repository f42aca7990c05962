"""Flow metrics of an entity's work items (Jira-style status categories, GitHub open/closed), by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.flow.records import FlowRecord
from portal.metrics.flow_work_items import flow_type_of
from tests.flow.factories import make_component, save, work_item
from tests.metrics.flow_factories import WINDOW, hours

HOUR = 3600
URL = "/api/v1/metrics/flow"


def transition(key: str, to_status: str, at, from_status: str | None = None) -> FlowRecord:  # noqa: ANN001
    return FlowRecord("transition", {"work_item_id": f"jira:{key}", "from_status": from_status,
                                     "to_status": to_status, "at": at, "author": "jane"})


@pytest.fixture
def jira_project(session):
    make_component(session, "billing-api", {"jira/project-key": "PLAT"})
    save(session, [
        # W1: a bug, in progress from 10 h to 20 h, resolved at 20 h: flow time 20 h, work 10 h.
        work_item("PLAT", "PLAT-1", hours(0), item_type="Bug", status="Done", status_category="done",
                  resolved_at=hours(20)),
        transition("PLAT-1", "To Do", hours(0)), transition("PLAT-1", "In Progress", hours(10), "To Do"),
        transition("PLAT-1", "Done", hours(20), "In Progress"),
        # W2: a story in "Doing" (a status this site calls in progress) since 5 h: in progress at the end.
        work_item("PLAT", "PLAT-2", hours(0), item_type="Story", status="Doing", status_category="in_progress"),
        transition("PLAT-2", "Doing", hours(5), "To Do"),
        # W3: technical debt closed a day after it was opened, without transitions: flow time 24 h, no work.
        work_item("PLAT", "PLAT-3", hours(8 * 24), item_type="Technical Debt", status="Closed",
                  status_category="done", resolved_at=hours(9 * 24)),
        # Not counted: deleted, and another project's.
        work_item("PLAT", "PLAT-4", hours(0), deleted=True),
        work_item("OTHER", "OTHER-1", hours(0), resolved_at=hours(1), status_category="done"),
    ])


def test_work_item_flow_metrics(client, jira_project):
    body = client.get(URL, params={"entity": "component:default/billing-api", **WINDOW}).json()
    assert body["scope"] == {"items": "workItems", "entity": "component:default/billing-api",
                             "links": [{"annotation": "jira/project-key", "value": "plat"}]}
    assert body["velocity"]["finished"] == 2
    assert body["flowTime"]["p50"] == 22 * HOUR  # median of 20 h and 24 h
    # 10 h of work in 44 h of flow time
    assert body["efficiency"]["ratio"] == pytest.approx(10 / 44)
    assert body["load"]["wip"] == 1
    assert body["load"]["oldest"] == [{"ageSeconds": (timedelta(days=30)).total_seconds(), "state": "in_progress",
                                       "type": "feature", "key": "PLAT-2"}]
    assert body["distribution"]["finished"]["defect"]["items"] == 1
    assert body["distribution"]["finished"]["debt"]["items"] == 1
    days = {day["date"]: day["counts"] for day in body["cumulativeFlow"]["days"]}
    assert body["cumulativeFlow"]["states"] == ["todo", "in_progress", "done"]
    assert days["2026-03-02"] == {"todo": 0, "in_progress": 1, "done": 1}  # W1 done at 20 h, W2 doing since 5 h
    # W3 opened on the 10th and closed at midnight: open through that day, done on the next.
    assert days["2026-03-10"] == {"todo": 1, "in_progress": 1, "done": 1}
    assert days["2026-03-11"] == {"todo": 0, "in_progress": 1, "done": 2}


def test_open_closed_issues_have_no_measurable_efficiency(client, session):
    make_component(session, "web", {"github.com/project-slug": "octo/web"})
    save(session, [FlowRecord("work_item", {
        "id": "github:octo/web#issue-1", "source": "github", "connection": "default",
        "link_annotation": "github.com/project-slug", "link_value": "octo/web", "key": "octo/web#1",
        "item_type": "issue", "status": "closed", "status_category": "done", "created_at": hours(0),
        "resolved_at": hours(30), "deleted": False})])
    body = client.get(URL, params={"entity": "component:default/web", **WINDOW}).json()
    assert body["velocity"]["finished"] == 1 and body["flowTime"]["p50"] == 30 * HOUR
    assert body["efficiency"]["ratio"] is None and "no in-progress status" in body["efficiency"]["reason"]


@pytest.mark.parametrize(("item_type", "flow_type"), [
    ("Bug", "defect"), ("Incident", "defect"), ("Security Vulnerability", "risk"), ("Technical Debt", "debt"),
    ("Chore", "debt"), ("Story", "feature"), ("Epic", "feature"), ("issue", "feature"), (None, "feature"),
])
def test_issue_types_map_to_flow_item_types(item_type, flow_type):
    assert flow_type_of(item_type) == flow_type
