"""Synthetic flow records for the DORA benchmark: N records over 500 components and one year.

Per component, in shares of its records: commits 40 %, changes 15 %, deployments 20 % (60 % of them
successful production deployments, 30 % staging, 10 % failed production), pipeline runs 20 % and
incidents 5 %. Changes are merged, half of them with the sha of a later production deployment; their
commits sit on the change's head branch. A platform product has 5 capabilities, each used by 20 of the
components (100 in all), and the components form 25 systems owned by 10 teams. Deterministic per seed
and year start (bench/dora.py measures 2025; bench/metrics_pages.py the year up to the day it runs).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities
from portal.flow.models import FlowChange, FlowCommit, FlowDeployment, FlowIncident, FlowPipelineRun

COMPONENTS = 500
SYSTEMS = 25
TEAMS = 10
CAPABILITIES = 5
USERS_PER_CAPABILITY = 20
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
BATCH = 5_000
SHARES = {"commit": 0.40, "change": 0.15, "deployment": 0.20, "pipeline_run": 0.20, "incident": 0.05}
LOCATION = "file:/bench/dora-catalog.yaml"
PRODUCT = "platformproduct:default/bench-product"


@dataclass
class GeneratedFlow:
    records: int
    components: list[str]
    product: str


def repo_of(index: int) -> str:
    return f"bench/svc-{index:03d}"


def catalog_entities() -> list[dict]:
    """Teams, systems, the product, its capabilities and 500 linked components."""
    def entity(api: str, kind: str, name: str, spec: dict, annotations: dict | None = None) -> dict:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "annotations": annotations or {}},
                "spec": spec}
    backstage, flowport = "backstage.io/v1alpha1", "flowport.dev/v1alpha1"
    found = [entity(backstage, "Group", f"team-{t}", {"type": "team", "children": []}) for t in range(TEAMS)]
    found += [entity(backstage, "System", f"system-{s}", {"owner": f"group:default/team-{s % TEAMS}"})
              for s in range(SYSTEMS)]
    found.append(entity(flowport, "PlatformProduct", "bench-product",
                        {"type": "platform-product", "lifecycle": "production", "owner": "group:default/team-0"}))
    found += [entity(flowport, "Capability", f"capability-{c}",
                     {"product": PRODUCT, "owner": "group:default/team-0", "lifecycle": "ga",
                      "fulfillment": {"mode": "automated"}, "timeSaved": "PT4H", "targetLeadTime": "PT1H"})
              for c in range(CAPABILITIES)]
    for index in range(COMPONENTS):
        annotations = {"github.com/project-slug": repo_of(index), "pagerduty.com/service-id": f"PSVC{index:03d}"}
        if index < CAPABILITIES * USERS_PER_CAPABILITY:
            annotations["flowport.dev/uses-capabilities"] = f"capability:default/capability-{index % CAPABILITIES}"
        found.append(entity(backstage, "Component", f"svc-{index:03d}",
                            {"type": "service", "lifecycle": "production",
                             "owner": f"group:default/team-{index % TEAMS}", "system": f"system-{index % SYSTEMS}"},
                            annotations))
    return found


def _base(record_id: str, source: str, annotation: str, value: str, at: datetime) -> dict:
    return {"id": record_id, "source": source, "connection": "default", "link_annotation": annotation,
            "link_value": value, "url": None, "source_updated_at": at, "updated_at": at}


def component_rows(index: int, per_component: int, rng: random.Random,
                   year_start: datetime = YEAR_START) -> Iterator[tuple[type, dict]]:
    """One component's records for the year from `year_start`."""
    repo = repo_of(index)
    github = ("github", "github.com/project-slug", repo)
    counts = {kind: max(1, round(per_component * share)) for kind, share in SHARES.items()}

    def moment() -> datetime:
        return year_start + timedelta(seconds=rng.randrange(int(YEAR.total_seconds())))

    production = []
    for number in range(counts["deployment"]):
        started = moment()
        roll = rng.random()
        environment, status = ("production", "success") if roll < 0.6 else (
            ("staging", "success") if roll < 0.9 else ("production", "failure"))
        sha = f"{index:03d}{number:037x}"
        if environment == "production" and status == "success":
            production.append((started + timedelta(minutes=6), sha))
        yield FlowDeployment, {**_base(f"github:{repo}:deployment:{number}", *github, started), "repository": repo,
                               "environment": environment, "tier": environment, "sha": sha, "ref": "main",
                               "status": status, "started_at": started, "finished_at": started + timedelta(minutes=6)}
    production.sort()
    for number in range(counts["change"]):
        opened = moment()
        merged = opened + timedelta(minutes=rng.randrange(10, 3 * 24 * 60))
        later = [sha for finished, sha in production if finished > merged]
        sha = later[0] if later and rng.random() < 0.5 else f"merge{index:03d}{number:030x}"
        branch = f"feature/{number}"
        yield FlowChange, {**_base(f"github:{repo}#{number}", *github, merged), "repository": repo, "number": number,
                           "title": f"Change {number}", "author": "bench", "state": "merged", "created_at": opened,
                           "first_commit_at": None, "merged_at": merged, "closed_at": merged, "merge_sha": sha,
                           "base_branch": "main", "head_branch": branch}
        # Spread the commits over the changes so their total is the commit share.
        for commit in range((counts["commit"] * (number + 1)) // counts["change"]
                            - (counts["commit"] * number) // counts["change"]):
            authored = opened - timedelta(minutes=rng.randrange(5, 2 * 24 * 60))
            commit_sha = f"c{index:03d}{number:06d}{commit:04d}".ljust(40, "0")
            yield FlowCommit, {**_base(f"github:{repo}:commit:{commit_sha}", *github, authored), "repository": repo,
                               "sha": commit_sha, "branch": branch, "title": "work", "author": "bench",
                               "authored_at": authored, "pushed_at": authored + timedelta(minutes=1)}
    for number in range(counts["pipeline_run"]):
        started = moment()
        yield FlowPipelineRun, {**_base(f"github:{repo}:run:{number}", *github, started), "repository": repo,
                                "name": "CI", "ref": "main", "sha": None, "status": rng.choice(("success", "failure")),
                                "started_at": started, "finished_at": started + timedelta(minutes=9)}
    service = f"psvc{index:03d}"
    for number in range(counts["incident"]):
        created = moment()
        resolved = created + timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
        yield FlowIncident, {**_base(f"pagerduty:{service}:{number}", "pagerduty", "pagerduty.com/service-id",
                                     service, created), "title": "Incident", "severity": "high",
                             "status": "resolved", "created_at": created, "acknowledged_at": None,
                             "resolved_at": resolved}


def seed(session: Session, records: int, seed_value: int = 42) -> GeneratedFlow:
    """Write the catalog and about `records` flow records, committing in batches."""
    write_entities(session, [PreparedEntity(item, LOCATION, LOCATION) for item in catalog_entities()])
    session.commit()
    return seed_records(session, records, seed_value)


def seed_records(session: Session, records: int, seed_value: int = 42,
                 year_start: datetime = YEAR_START) -> GeneratedFlow:
    """Write about `records` flow records for the catalog's components (written by the caller), in batches."""
    rng = random.Random(seed_value)
    per_component = records // COMPONENTS
    pending: dict[type, list[dict]] = {}
    written = 0
    for index in range(COMPONENTS):
        for model, row in component_rows(index, per_component, rng, year_start):
            pending.setdefault(model, []).append(row)
            written += 1
            if len(pending[model]) >= BATCH:
                session.execute(insert(model.__table__), pending.pop(model))
        session.commit()
    for model, rows in pending.items():
        session.execute(insert(model.__table__), rows)
    session.commit()
    return GeneratedFlow(written, [f"component:default/svc-{i:03d}" for i in range(COMPONENTS)], PRODUCT)


def capability_users(capability: int) -> list[str]:
    """The components whose descriptors declare `capability-<capability>` (20 of them)."""
    return [f"component:default/svc-{index:03d}" for index in range(CAPABILITIES * USERS_PER_CAPABILITY)
            if index % CAPABILITIES == capability]
