"""The flow records DORA needs for a scope and a window, read in SQL for all the scope's components at
once, restricted to their links, the production tier and what can change the window's answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, and_, false, func, or_, select, type_coerce
from sqlmodel import Session

from portal.flow.first_commit import first_commit_at
from portal.flow.models import FlowChange, FlowDeployment, FlowIncident
from portal.flow.query import Link
from portal.metrics.window import Window

# How far before the window a change's merge, or an incident's attributed deployment, is looked for.
LOOKBACK = timedelta(days=90)
ID_CHUNK = 2_000


@dataclass(frozen=True)
class Deployment:
    """A successful production deployment."""

    id: str
    repository: str | None
    sha: str | None
    finished_at: datetime
    # Stands for a link's unread deployments before or after the window: it bounds incident attribution
    # but ships no change.
    stand_in: bool = False


@dataclass(frozen=True)
class Change:
    """A merged change (PR/MR); `first_commit_at` from the tool or derived from pushes."""

    id: str
    repository: str
    opened_at: datetime | None
    first_commit_at: datetime | None
    merged_at: datetime
    merge_sha: str | None


@dataclass(frozen=True)
class Incident:
    """An incident; `resolved_at` only when the record says it is resolved now (a reopened incident
    is not resolved until it is resolved again, at its final resolution)."""

    id: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass
class ComponentRecords:
    deployments: list[Deployment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def _raw(column):  # noqa: ANN001, ANN202 - a column
    """A time column as the driver returns it, without SQLAlchemy's per-value conversion (SQLite's is a
    regular expression per value, which dominated the cost of a product's year)."""
    return type_coerce(column, String).label(column.key)


def _utc(value: datetime | str | None) -> datetime | None:
    """SQLite hands back text, PostgreSQL naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def links_condition(model: type, links: Iterable[Link]):  # noqa: ANN201 - a SQL expression
    """Rows linked through any of `links`, one `value IN (...)` per annotation so each uses the link index."""
    values: dict[str, set[str]] = defaultdict(set)
    for annotation, value in links:
        values[annotation].add(value)
    if not values:
        return false()
    return or_(*(and_(model.link_annotation == annotation, model.link_value.in_(sorted(found)))
                 for annotation, found in sorted(values.items())))


def load_records(session: Session, components: dict[str, Sequence[Link]], window: Window,
                 lookback: timedelta = LOOKBACK) -> dict[str, ComponentRecords]:
    """Each component's deployments, changes and incidents that can matter for the window.

    Only what can change an answer is read. Deployments: those finished from the earliest incident
    that needs one (the window's start, or the creation of an incident resolved in the window) to the
    window's end; each link's last one before that and first one after the window stand for all
    earlier and later ones (an incident is attributed to the last deployment before it). Changes: those
    merged in the window, and those merged in the LOOKBACK before it that no deployment of their link
    shipped before the window (or whose merge sha a window deployment carries); deployments of their
    merge shas before the window are read too, since a sha's first deployment ships it."""
    owners: dict[Link, list[str]] = defaultdict(list)
    for component, links in components.items():
        for link in links:
            owners[link].append(component)
    records = {component: ComponentRecords() for component in components}
    if not owners:
        return records
    incidents = _incidents(session, owners, window, lookback)
    earliest = min([window.start, *(incident.created_at for _, incident in incidents)])
    changes = _changes(session, owners, window, lookback)
    deployments = (_deployments(session, owners, _successful(FlowDeployment.finished_at >= earliest,
                                                             FlowDeployment.finished_at < window.end))
                   + _edge(session, owners, earliest - lookback, earliest, last=True)
                   + _edge(session, owners, window.end, None, last=False)
                   + _earlier_merge_shas(session, owners, changes, earliest - lookback, earliest))
    unique = {(link, deployment.id): deployment for link, deployment in deployments}
    for (link, _), deployment in unique.items():
        for component in owners[link]:
            records[component].deployments.append(deployment)
    for kind, rows in (("incidents", incidents), ("changes", changes)):
        for link, row in rows:
            for component in owners[link]:
                getattr(records[component], kind).append(row)
    for component in records.values():
        component.deployments.sort(key=lambda deployment: (deployment.finished_at, deployment.id))
    return records


def _successful(*conditions):  # noqa: ANN002, ANN202 - SQL conditions
    return and_(FlowDeployment.tier == "production", FlowDeployment.status == "success", *conditions)


def _incidents(session: Session, owners: dict[Link, list[str]], window: Window, lookback: timedelta
               ) -> list[tuple[Link, Incident]]:
    # Created in the window or up to LOOKBACK after it (they can fail a deployment in it), or resolved
    # in it (recovery).
    rows = session.execute(
        select(FlowIncident.link_annotation, FlowIncident.link_value, FlowIncident.id, FlowIncident.status,
               _raw(FlowIncident.created_at), _raw(FlowIncident.resolved_at))
        .where(links_condition(FlowIncident, owners), FlowIncident.created_at.is_not(None),
               or_(and_(FlowIncident.created_at >= window.start, FlowIncident.created_at < window.end + lookback),
                   and_(FlowIncident.resolved_at >= window.start, FlowIncident.resolved_at < window.end)))
    ).all()
    return [((annotation, value), Incident(row_id, _utc(created), _utc(resolved) if status == "resolved" else None))
            for annotation, value, row_id, status, created, resolved in rows]


def _deployments(session: Session, owners: dict[Link, list[str]], condition) -> list[tuple[Link, Deployment]]:  # noqa: ANN001
    rows = session.execute(
        select(FlowDeployment.link_annotation, FlowDeployment.link_value, FlowDeployment.id,
               FlowDeployment.repository, FlowDeployment.sha, _raw(FlowDeployment.finished_at))
        .where(links_condition(FlowDeployment, owners), condition)
    ).all()
    return [((annotation, value), Deployment(row_id, repository, sha, _utc(finished)))
            for annotation, value, row_id, repository, sha, finished in rows]


def _edge(session: Session, owners: dict[Link, list[str]], since: datetime, until: datetime | None, *, last: bool
          ) -> list[tuple[Link, Deployment]]:
    """Each link's last deployment in [since, until), or its first at or after `since` (`until` None)."""
    finished = FlowDeployment.finished_at
    edge = func.max(finished) if last else func.min(finished)
    bounds = [finished >= since] + ([finished < until] if until is not None else [])
    rows = session.execute(
        select(FlowDeployment.link_annotation, FlowDeployment.link_value, type_coerce(edge, String))
        .where(links_condition(FlowDeployment, owners), _successful(*bounds))
        .group_by(FlowDeployment.link_annotation, FlowDeployment.link_value)
    ).all()
    # They only ever stand for "some deployment then": no sha and no repository, outside the window.
    side = "before" if last else "after"
    return [((annotation, value), Deployment(f"{side}-window:{annotation}={value}", None, None, _utc(at), True))
            for annotation, value, at in rows if at is not None]


def _earlier_merge_shas(session: Session, owners: dict[Link, list[str]], changes: list[tuple[Link, Change]],
                        since: datetime, until: datetime) -> list[tuple[Link, Deployment]]:
    shas = sorted({change.merge_sha for _, change in changes if change.merge_sha})
    found = []
    for start in range(0, len(shas), ID_CHUNK):
        found += _deployments(session, owners, _successful(FlowDeployment.sha.in_(shas[start:start + ID_CHUNK]),
                                                           FlowDeployment.finished_at >= since,
                                                           FlowDeployment.finished_at < until))
    return found


def _changes(session: Session, owners: dict[Link, list[str]], window: Window, lookback: timedelta
             ) -> list[tuple[Link, Change]]:
    """Merged changes that may ship in the window, with the first commit the tool sent; the one derived
    from pushes costs a subquery per change, so it is filled in later, only for those that do."""
    linked = links_condition(FlowDeployment, owners)
    shipped_before = (
        select(FlowDeployment.link_annotation.label("annotation"), FlowDeployment.link_value.label("value"),
               func.max(FlowDeployment.finished_at).label("at"))
        .where(linked, _successful(FlowDeployment.finished_at >= window.start - lookback,
                                   FlowDeployment.finished_at < window.start))
        .group_by(FlowDeployment.link_annotation, FlowDeployment.link_value).subquery()
    )
    window_shas = select(FlowDeployment.sha).where(linked, _successful(FlowDeployment.finished_at >= window.start,
                                                                       FlowDeployment.finished_at < window.end))
    rows = session.execute(
        select(FlowChange.link_annotation, FlowChange.link_value, FlowChange.id, FlowChange.repository,
               _raw(FlowChange.created_at), _raw(FlowChange.first_commit_at), _raw(FlowChange.merged_at),
               FlowChange.merge_sha)
        .outerjoin(shipped_before, and_(shipped_before.c.annotation == FlowChange.link_annotation,
                                        shipped_before.c.value == FlowChange.link_value))
        .where(links_condition(FlowChange, owners), FlowChange.merged_at < window.end,
               FlowChange.merged_at >= window.start - lookback,
               or_(FlowChange.merged_at >= window.start, shipped_before.c.at.is_(None),
                   FlowChange.merged_at >= shipped_before.c.at, FlowChange.merge_sha.in_(window_shas)))
    ).all()
    return [((annotation, value), Change(row_id, repository, _utc(opened), _utc(first), _utc(merged), sha))
            for annotation, value, row_id, repository, opened, first, merged, sha in rows]


def first_commits(session: Session, change_ids: Iterable[str]) -> dict[str, datetime]:
    """The first commit of each change, derived from pushes (portal/flow/first_commit.py) where the tool
    sent none; changes without one are left out."""
    ids = sorted(set(change_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = session.execute(
            select(FlowChange.id, first_commit_at().label("first_commit_at"))
            .where(FlowChange.id.in_(ids[start:start + ID_CHUNK]))
        ).all()
        found.update({row_id: _utc(first) for row_id, first in rows if first is not None})
    return found


def with_first_commits(records: dict[str, ComponentRecords], first: dict[str, datetime]
                       ) -> dict[str, ComponentRecords]:
    """The same records with the derived first commits filled in."""
    return {component: ComponentRecords(
        item.deployments,
        [replace(change, first_commit_at=first[change.id]) if change.first_commit_at is None and change.id in first
         else change for change in item.changes],
        item.incidents) for component, item in records.items()}
