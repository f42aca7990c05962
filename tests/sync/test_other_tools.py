"""GitLab, Jira and PagerDuty pull syncs against stubbed APIs serving objects adapted from the real
webhook payloads in the shared fixtures (their REST objects share those shapes)."""

from __future__ import annotations

import asyncio
import copy
import json
import random

import httpx
from sqlalchemy import select
from sqlmodel import Session

from flowport_gitlab import GitLabConfig, GitLabPlugin
from flowport_jira import JiraConfig, JiraPlugin
from flowport_pagerduty import PagerDutyConfig, PagerDutyPlugin
from portal.flow.models import FlowChange, FlowDeployment, FlowIncident, FlowPipelineRun, FlowWorkItem, \
    FlowWorkItemTransition
from portal.sync.runner import sync_connection
from tests.conftest import FIXTURES
from tests.sync.conftest import link_component
from tests.sync.fake_github import FakeClock, stamp
from tests.sync.fake_gitlab import FakeGitLab, make_mr_commit


def fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def run(engine, plugin, handler, **options):
    clock = FakeClock()
    return asyncio.run(sync_connection(engine, plugin, transport=httpx.MockTransport(handler), sleep=clock.sleep,
                                       clock=clock, rng=random.Random(3), **options))


def rows(engine, model):
    with Session(engine) as session:
        return session.execute(select(model)).scalars().all()


# --- GitLab ------------------------------------------------------------------------------------

GITLAB_PROJECT = "gitlabhq/gitlab-test"


def gitlab_mr(iid: int, updated: int) -> dict:
    mr = copy.deepcopy(fixture("gitlab/go-gitlab/merge_request.json")["object_attributes"])
    mr.pop("action")
    mr.update(iid=iid, id=9000 + iid, updated_at=stamp(updated), state="merged" if iid % 2 else "opened",
              merged_at=stamp(updated) if iid % 2 else None, web_url=mr.pop("url"),
              merge_commit_sha="a" * 40 if iid % 2 else None, author={"username": "root"})
    return mr


def test_gitlab_sync_follows_x_next_page_and_stores_mrs_pipelines_deployments(engine):
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": GITLAB_PROJECT})
    pipeline = copy.deepcopy(fixture("gitlab/go-gitlab/pipeline.json")["object_attributes"])
    pipeline.update(updated_at=stamp(5), web_url="https://gitlab.example.com/p/1")
    deployment = {"id": 42, "iid": 2, "ref": "main", "sha": "b" * 40, "status": "success",
                  "created_at": stamp(1), "updated_at": stamp(3),
                  "environment": {"id": 9, "name": "production", "tier": "production"},
                  "deployable": {"web_url": "https://gitlab.example.com/-/jobs/7"}}
    gitlab = FakeGitLab(page_size=2)
    gitlab.merge_requests = [gitlab_mr(n, n * 10) for n in range(1, 6)]
    gitlab.mr_commits = {n: [make_mr_commit(f"{n:040x}", n * 10 - 90)] for n in range(1, 6)}
    gitlab.pipelines, gitlab.deployments = [pipeline], [deployment]
    plugin = GitLabPlugin(GitLabConfig(token="glpat-test"))
    report = run(engine, plugin, gitlab.handle)
    assert report.ok, report.error
    mr_pages = [r.url.params.get("page", "1") for r in gitlab.requests if r.url.path.endswith("/merge_requests")]
    assert mr_pages == ["1", "2", "3"]
    assert gitlab.requests[0].headers["private-token"] == "glpat-test"
    changes = {c.number: c for c in rows(engine, FlowChange)}
    assert sorted(changes) == [1, 2, 3, 4, 5] and changes[1].state == "merged" and changes[2].state == "open"
    assert changes[1].link_value == GITLAB_PROJECT
    [stored] = rows(engine, FlowDeployment)
    assert (stored.status, stored.tier, stored.sha) == ("success", "production", "b" * 40)
    assert stored.started_at is not None and stored.finished_at is not None
    assert len(rows(engine, FlowPipelineRun)) == 1


# --- Jira --------------------------------------------------------------------------------------


def jira_issue(number: int, updated: str) -> dict:
    issue = copy.deepcopy(fixture("jira/jira-to-matrix/issue/created.json")["issue"])
    issue.update(id=str(30000 + number), key=f"BBCOM-{number}")
    issue["fields"]["updated"] = updated
    issue["changelog"] = {"histories": [{
        "id": str(number), "created": updated, "author": {"displayName": "Ada"},
        "items": [{"field": "status", "fieldId": "status", "fromString": "To Do", "toString": "In Progress"}],
    }]}
    return issue


def test_jira_sync_pages_with_next_page_token_and_keeps_the_newest_update_as_cursor(engine):
    link_component(engine, "bbcom", {"jira/project-key": "BBCOM"})
    pages = [
        {"issues": [jira_issue(1, "2024-03-01T10:00:00.000+0000"), jira_issue(2, "2024-03-01T11:00:00.000+0000")],
         "nextPageToken": "tok-2", "isLast": False},
        {"issues": [jira_issue(3, "2024-03-01T12:00:00.000+0000")], "isLast": True},
    ]
    bodies: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/rest/api/3/search/jql"
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=pages[len(bodies) - 1] if len(bodies) <= 2 else {"issues": [], "isLast": True})

    plugin = JiraPlugin(JiraConfig(site_url="https://acme.atlassian.net", email="ada@example.com", token="t0k"))
    report = run(engine, plugin, handle)
    assert report.ok, report.error
    assert bodies[0]["jql"] == 'project in ("BBCOM") ORDER BY updated ASC'
    assert bodies[0]["expand"] == "changelog" and "nextPageToken" not in bodies[0]
    assert bodies[1]["nextPageToken"] == "tok-2"
    assert sorted(item.key for item in rows(engine, FlowWorkItem)) == ["BBCOM-1", "BBCOM-2", "BBCOM-3"]
    assert {t.to_status for t in rows(engine, FlowWorkItemTransition)} == {"In Progress"}

    run(engine, plugin, handle)
    # The next run only asks for what changed since the newest stored update (with a small overlap).
    assert "AND updated >= -" in bodies[2]["jql"] and bodies[2]["jql"].endswith("m ORDER BY updated ASC")


# --- PagerDuty ---------------------------------------------------------------------------------


def pd_incident(number: int, status: str, created: str) -> dict:
    incident = copy.deepcopy(fixture("pagerduty/zulip-fixtures/triggered_v3.json")["event"]["data"])
    incident.update(id=f"Q{number:05d}", number=number, status=status, created_at=created, updated_at=created)
    return incident


def test_pagerduty_sync_uses_offset_pagination_and_stays_behind_unresolved_incidents(engine):
    link_component(engine, "pig", {"pagerduty.com/service-id": "PA2P440"})
    incidents = [pd_incident(1, "resolved", "2024-03-01T10:00:00Z"), pd_incident(2, "triggered", "2024-03-01T11:00:00Z"),
                 pd_incident(3, "resolved", "2024-03-01T12:00:00Z")]
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        offset, limit = int(request.url.params["offset"]), 2
        chunk = incidents[offset: offset + limit]
        return httpx.Response(200, json={"incidents": chunk, "limit": limit, "offset": offset,
                                         "more": offset + limit < len(incidents), "total": None})

    plugin = PagerDutyPlugin(PagerDutyConfig(token="pd-key"))
    report = run(engine, plugin, handle)
    assert report.ok, report.error
    assert [r.url.params["offset"] for r in seen] == ["0", "2"]
    assert seen[0].url.params.get_list("service_ids[]") == ["PA2P440"]
    assert seen[0].url.params["date_range"] == "all"
    assert seen[0].headers["authorization"] == "Token token=pd-key"
    stored = {i.id: i for i in rows(engine, FlowIncident)}
    assert stored["pagerduty:Q00002"].status == "triggered" and stored["pagerduty:Q00001"].status == "resolved"
    assert stored["pagerduty:Q00001"].link_value == "pa2p440"

    seen.clear()
    run(engine, plugin, handle)
    # The triggered incident holds the cursor back, so it is read again until it resolves.
    assert seen[0].url.params["since"].startswith("2024-03-01T11:00:00")
