"""What the component's metrics tab shows besides DORA: its recent deployments (every tier), the
incidents of the window with their reopenings, and successful production deployments per week.

DORA itself comes from api_dora.dora_of_components, so the tab and the API never disagree."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from portal.flow.incident_history import incident_histories
from portal.flow.models import FlowDeployment, FlowIncident
from portal.flow.query import Link, as_utc, link_condition
from portal.metrics.dora_samples import deployment_times
from portal.metrics.window import Window

# A table longer than this is no longer read; the flow API pages through the rest.
RECENT_LIMIT = 50
# The bar chart shows at most this many bars: longer windows get buckets of several weeks.
MAX_BUCKETS = 53
WEEK = timedelta(days=7)


def _in(column, window: Window):  # noqa: ANN001, ANN202 - SQL expressions
    return and_(column >= window.start, column < window.end)


def recent_deployments(session: Session, links: Sequence[Link], window: Window,
                       limit: int = RECENT_LIMIT) -> list[dict]:
    """Deployments to any environment that finished in the window (or started in it and have not
    finished), newest first."""
    rows = session.execute(
        select(FlowDeployment).where(
            link_condition(FlowDeployment, links),
            or_(_in(FlowDeployment.finished_at, window),
                and_(FlowDeployment.finished_at.is_(None), _in(FlowDeployment.started_at, window))))
        .order_by(FlowDeployment.finished_at.desc(), FlowDeployment.started_at.desc(), FlowDeployment.id)
        .limit(limit)
    ).scalars().all()
    return [{"id": row.id, "environment": row.environment, "tier": row.tier, "status": row.status,
             "repository": row.repository, "sha": row.sha, "ref": row.ref,
             "startedAt": as_utc(row.started_at), "finishedAt": as_utc(row.finished_at), "url": row.url}
            for row in rows]


def window_incidents(session: Session, links: Sequence[Link], window: Window,
                     limit: int = RECENT_LIMIT) -> list[dict]:
    """Incidents created or resolved in the window, newest first, with time to restore (when resolved)
    and whether they were ever reopened (from the status history)."""
    rows = session.execute(
        select(FlowIncident).where(
            link_condition(FlowIncident, links),
            or_(_in(FlowIncident.created_at, window), _in(FlowIncident.resolved_at, window)))
        .order_by(FlowIncident.created_at.desc(), FlowIncident.id).limit(limit)
    ).scalars().all()
    histories = incident_histories(session, [row.id for row in rows])
    answer = []
    for row in rows:
        created, resolved = as_utc(row.created_at), as_utc(row.resolved_at)
        restore = (resolved - created).total_seconds() if created and resolved and resolved >= created else None
        history = histories.get(row.id, [])
        answer.append({"id": row.id, "title": row.title, "severity": row.severity, "status": row.status,
                       "createdAt": created, "resolvedAt": resolved, "timeToRestore": restore,
                       "reopened": sum(1 for event in history if event.get("change") == "reopened"),
                       "url": row.url})
    return answer


def week_buckets(window: Window) -> list[Window]:
    """The window cut into weeks from its start (the last one may be shorter); long windows get
    buckets of several weeks so the chart keeps at most MAX_BUCKETS bars."""
    weeks = max(1, math.ceil(window.seconds / WEEK.total_seconds()))
    size = WEEK * math.ceil(weeks / MAX_BUCKETS)
    buckets, start = [], window.start
    while start < window.end:
        buckets.append(Window(start, min(start + size, window.end)))
        start += size
    return buckets


def deployments_per_week(session: Session, components: dict[str, Sequence[Link]], window: Window) -> list[tuple[str, int]]:
    """Successful production deployments per bucket, the ones DORA's deployment frequency counts (read from
    the DORA rollup, which the page's DORA read has just brought up to date)."""
    finished = sorted(deployment_times(session, components, window))
    return [(bucket.start.date().isoformat(),
             bisect.bisect_left(finished, bucket.end) - bisect.bisect_left(finished, bucket.start))
            for bucket in week_buckets(window)]
