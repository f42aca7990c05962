"""Small factories for flow tests: catalog entities with link annotations, and flow records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities
from portal.flow.records import FlowRecord, environment_tier
from portal.flow.writer import write_records

GITHUB = "github.com/project-slug"
PAGERDUTY = "pagerduty.com/service-id"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_component(session: Session, name: str, annotations: dict | None = None, kind: str = "Component") -> None:
    """Store one entity the way ingestion would."""
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": kind,
              "metadata": {"name": name, "annotations": annotations or {}},
              "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"}}
    write_entities(session, [PreparedEntity(entity=entity, location_key="file:/tmp/catalog.yaml",
                                            origin_location_key="file:/tmp/catalog.yaml")])
    session.commit()


def _link(repo: str, annotation: str = GITHUB) -> dict:
    return {"source": "github" if annotation == GITHUB else "pagerduty", "connection": "default",
            "link_annotation": annotation,
            "link_value": repo.lower()}


def change(repo: str, number: int, created: datetime, **values) -> FlowRecord:
    return FlowRecord("change", {"id": f"github:{repo}#{number}", **_link(repo), "repository": repo, "number": number,
                                 "title": f"Change {number}", "author": "octocat", "state": "open",
                                 "created_at": created, **values})


def commit(repo: str, sha: str, branch: str | None, authored: datetime, pushed: datetime | None = None,
           **values) -> FlowRecord:
    """A pushed commit; branch and push time are insert-only, as the push normalizers make them."""
    return FlowRecord("commit", {"id": f"github:{repo}:commit:{sha}", **_link(repo), "repository": repo, "sha": sha,
                                 "title": f"Commit {sha}", "author": "octocat", "authored_at": authored, **values},
                      defaults={"branch": branch, "pushed_at": pushed})


def deployment(repo: str, deployment_id: int, environment: str, started: datetime, **values) -> FlowRecord:
    return FlowRecord("deployment", {
        "id": f"github:{repo}:deployment:{deployment_id}", **_link(repo), "repository": repo,
        "environment": environment, "tier": environment_tier(environment), "sha": f"{deployment_id:040x}",
        "status": "success", "started_at": started, "finished_at": started + timedelta(minutes=5), **values})


def incident(service: str, number: int, created: datetime, **values) -> FlowRecord:
    return FlowRecord("incident", {"id": f"pagerduty:{number}", **_link(service, PAGERDUTY),
                                   "title": f"Incident {number}", "severity": "high", "status": "triggered",
                                   "created_at": created, **values})


def pipeline_run(repo: str, run_id: int, status: str, started: datetime, **values) -> FlowRecord:
    return FlowRecord("pipeline_run", {"id": f"github:{repo}:run:{run_id}", **_link(repo), "repository": repo,
                                       "name": "CI", "status": status, "started_at": started,
                                       "sha": f"{run_id:040x}", **values})


def release(repo: str, release_id: int, published: datetime | None, **values) -> FlowRecord:
    """A GitHub release; `published` None for a draft."""
    return FlowRecord("release", {
        "id": f"github:{repo}:release:{release_id}", **_link(repo), "repository": repo, "tag": f"v{release_id}",
        "name": f"Release {release_id}", "target": "main", "author": "octocat", "draft": published is None,
        "prerelease": False, "created_at": (published or T0) - timedelta(hours=1), "published_at": published,
        "deleted": False, **values})


def work_item(project: str, key: str, created: datetime, **values) -> FlowRecord:
    return FlowRecord("work_item", {"id": f"jira:{key}", "source": "jira", "connection": "default",
                                    "link_annotation": "jira/project-key",
                                    "link_value": project.lower(), "key": key, "title": f"Ticket {key}",
                                    "status": "To Do", "status_category": "todo", "created_at": created, "deleted": False,
                                    **values})


def save(session: Session, records: list[FlowRecord]) -> None:
    write_records(session, records)
    session.commit()


def all_pages(client, path: str, first: dict, field: str, limit: int | None = None) -> list:
    """`field` of every item on the page `first` and on the pages after it, following nextCursor
    (a cursor carries the query, so only the limit is sent with it)."""
    seen, body = [item[field] for item in first["items"]], first
    while cursor := body["pageInfo"].get("nextCursor"):
        body = client.get(path, params={"cursor": cursor, **({"limit": limit} if limit else {})}).json()
        seen += [item[field] for item in body["items"]]
    return seen
