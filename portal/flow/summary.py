"""What an entity page shows about delivery: recent changes, deployments per environment,
open incidents and pipeline health, read from the flow tables (never from the tools)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from portal.flow.models import FlowChange, FlowDeployment, FlowIncident, FlowPipelineRun
from portal.flow.query import FLOW_KINDS, Link, link_condition, records_json

RECENT_CHANGES = 5
OPEN_INCIDENTS = 10
# Pipeline health looks at this many most recent finished runs.
HEALTH_WINDOW = 20
LAST_RUNS = 5
_TIER_ORDER = {"production": 0, "staging": 1, "testing": 2, "development": 3}


@dataclass
class PipelineHealth:
    """Success rate over the last finished runs, and the latest runs of any status."""

    finished: int
    succeeded: int
    failed: int
    last_runs: list[dict]

    @property
    def success_rate(self) -> float | None:
        """Successful ÷ (successful + failed); cancelled runs say nothing about health."""
        judged = self.succeeded + self.failed
        return round(self.succeeded / judged, 4) if judged else None

    def to_json(self) -> dict:
        return {"finishedRuns": self.finished, "succeeded": self.succeeded, "failed": self.failed,
                "successRate": self.success_rate, "lastRuns": self.last_runs}


def recent_changes(session: Session, links: Sequence[Link], limit: int = RECENT_CHANGES) -> list[dict]:
    """The newest changes (PRs/MRs) of the entity."""
    kind = FLOW_KINDS["changes"]
    rows = session.execute(
        kind.select().where(link_condition(FlowChange, links))
        .order_by(kind.sort_time().desc(), FlowChange.id.desc()).limit(limit)
    ).all()
    return records_json(session, rows)


def latest_deployments(session: Session, links: Sequence[Link]) -> list[dict]:
    """The newest deployment to each environment, production first."""
    sort_time = FLOW_KINDS["deployments"].sort_time()
    ranked = (
        select(FlowDeployment.id, func.row_number().over(
            partition_by=FlowDeployment.environment,
            order_by=(sort_time.desc(), FlowDeployment.id.desc())).label("rank"))
        .where(link_condition(FlowDeployment, links))
        .subquery()
    )
    rows = session.execute(
        select(FlowDeployment).join(ranked, ranked.c.id == FlowDeployment.id).where(ranked.c.rank == 1)
    ).scalars().all()
    rows = sorted(rows, key=lambda row: (_TIER_ORDER.get(row.tier, 9), row.environment.lower()))
    return records_json(session, rows)


def open_incidents(session: Session, links: Sequence[Link], limit: int = OPEN_INCIDENTS) -> list[dict]:
    """Incidents not resolved yet, newest first."""
    sort_time = FLOW_KINDS["incidents"].sort_time()
    rows = session.execute(
        select(FlowIncident).where(link_condition(FlowIncident, links), FlowIncident.status != "resolved",
                                   FlowIncident.resolved_at.is_(None))
        .order_by(sort_time.desc(), FlowIncident.id.desc()).limit(limit)
    ).scalars().all()
    return records_json(session, rows)


def pipeline_health(session: Session, links: Sequence[Link]) -> PipelineHealth:
    """How often the last finished runs succeeded, and what the latest runs did."""
    sort_time = FLOW_KINDS["pipeline-runs"].sort_time()
    linked = link_condition(FlowPipelineRun, links)
    finished = session.execute(
        select(FlowPipelineRun.status).where(linked, FlowPipelineRun.status.in_(("success", "failure", "cancelled")))
        .order_by(sort_time.desc(), FlowPipelineRun.id.desc()).limit(HEALTH_WINDOW)
    ).scalars().all()
    last = session.execute(
        select(FlowPipelineRun).where(linked).order_by(sort_time.desc(), FlowPipelineRun.id.desc()).limit(LAST_RUNS)
    ).scalars().all()
    return PipelineHealth(finished=len(finished), succeeded=finished.count("success"),
                          failed=finished.count("failure"), last_runs=records_json(session, last))


def entity_summary(session: Session, links: Sequence[Link]) -> dict:
    """All four cards' data in one JSON document (the twin of the entity page's flow cards)."""
    return {
        "recentChanges": recent_changes(session, links),
        "deployments": latest_deployments(session, links),
        "openIncidents": open_incidents(session, links),
        "pipelineHealth": pipeline_health(session, links).to_json(),
    }
