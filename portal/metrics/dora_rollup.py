"""The DORA rollup: each component's samples, attributed once and kept up to date from the flow link
change log, so a scope's metrics are a few indexed reads instead of re-deriving shipping and incident
attribution from raw records on every request (docs/metrics.md, "How DORA is computed at scale").

A component's rows are rebuilt with the same rules as a direct computation (portal/metrics/dora.py
over the records of portal/metrics/dora_records.py), for the span a change can have moved: from the
earliest `since` of the link changes logged for its links after the last change it consumed, or
entirely when its links changed in the catalog or it was never built.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from portal.flow.link_changes import EVER, FlowLinkChange, forget_consumed, latest_change_id
from portal.flow.query import Link
from portal.metrics.dora import Deployments, lead_time
from portal.metrics.dora_records import ComponentRecords, first_commits, links_condition, load_records, \
    with_first_commits
from portal.metrics.dora_rollup_models import DoraRollupState, DoraSample
from portal.metrics.window import Window

# The open end of a rebuild: everything after `since`.
FOREVER = datetime(3000, 1, 1, tzinfo=UTC)
_EPOCH_DAY = datetime(1970, 1, 1, tzinfo=UTC)
SAMPLE_COLUMNS = [column.name for column in DoraSample.__table__.columns]
# On PostgreSQL, held shared by every transaction that writes rollup state, from before it reads a record
# to its commit, and exclusively, never waiting, by whoever marks components current or compacts the change
# log. A component built for the first time has a state row no other transaction sees until it commits, so
# neither can tell that the build read its records before changes that committed since, and would mark it
# past them or delete them. With the lock they only run when no build is in flight; a build that starts
# while they run waits, then reads records that include every change they deleted or marked consumed.
# (Reads run in READ COMMITTED: each statement sees what committed before it. SQLite needs no lock: a
# build's first write, its state row, takes the one write lock before it reads any record.)
# Beyond 32 bits, so no lock keyed by hashtext() (the catalog refresher's) can be the same lock.
ROLLUP_WRITE_LOCK = 0x0D0A_0D0A_0000_0001


@dataclass(frozen=True)
class Plan:
    """What a component needs: `since` None rebuilds it entirely."""

    component: str
    links: tuple[Link, ...]
    since: datetime | None


def links_key(links: Iterable[Link]) -> str:
    return json.dumps(sorted([annotation, value] for annotation, value in links))


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _day(at: datetime) -> int:
    return (at - _EPOCH_DAY).days


def sample_rows(component: str, records: ComponentRecords, since: datetime) -> list[dict]:
    """The component's sample rows placed at or after `since` (see dora_rollup_models for each kind)."""
    deployments = Deployments(records.deployments)
    rows = []

    def row(kind: str, sample_id: str, at: datetime, **values) -> None:  # noqa: ANN003
        rows.append({**dict.fromkeys(SAMPLE_COLUMNS), "component_ref": component, "kind": kind,
                     "sample_id": sample_id, "at": at, **values})

    for deployment in deployments.all:
        if not deployment.stand_in and deployment.finished_at >= since:
            row("deployment", deployment.id, deployment.finished_at, day=_day(deployment.finished_at))
    for change in records.changes:
        shipped_by = deployments.shipping(change)
        if shipped_by is None or shipped_by.finished_at < since:
            continue
        # Kept without a lead time too: a change shipped earlier by this component is not shipped later by another.
        measured = lead_time(change, shipped_by)
        row("lead", change.id, shipped_by.finished_at, deployment_id=shipped_by.id, deployment_at=shipped_by.finished_at,
            seconds=measured.total if measured else None, coding_seconds=measured.coding if measured else None,
            review_seconds=measured.open_to_merge if measured else None,
            deploy_seconds=measured.deploy if measured else None)
    for incident in records.incidents:
        attributed = deployments.last_before(incident.created_at)
        if attributed is not None and not attributed.stand_in and attributed.finished_at >= since:
            row("failure", incident.id, attributed.finished_at, deployment_id=attributed.id,
                deployment_at=attributed.finished_at)
        resolved = incident.resolved_at
        if resolved is None or resolved < since:
            continue
        recovery = (resolved - attributed.finished_at).total_seconds() \
            if attributed is not None and resolved >= attributed.finished_at else None
        row("incident", incident.id, resolved,
            deployment_id=attributed.id if attributed is not None else None,
            deployment_at=attributed.finished_at if attributed is not None else None,
            seconds=(resolved - incident.created_at).total_seconds() if resolved >= incident.created_at else None,
            recovery_seconds=recovery)
    return rows


def _with_derived_first_commits(session: Session, records: ComponentRecords, since: datetime) -> ComponentRecords:
    """First commits derived from pushes, only for the changes whose rows are rebuilt and lack one."""
    deployments = Deployments(records.deployments)
    wanted = {change.id for change in records.changes if change.first_commit_at is None
              and (shipped_by := deployments.shipping(change)) is not None and shipped_by.finished_at >= since}
    return with_first_commits({"one": records}, first_commits(session, wanted))["one"] if wanted else records


def rebuild(session: Session, plan: Plan) -> int:
    """Replace the component's rows from `plan.since` (all of them when None); returns rows written."""
    since = plan.since or EVER
    records = load_records(session, {plan.component: list(plan.links)}, Window(since, FOREVER))[plan.component]
    rows = sample_rows(plan.component, _with_derived_first_commits(session, records, since), since)
    stale = delete(DoraSample).where(DoraSample.component_ref == plan.component)
    session.execute(stale if plan.since is None else stale.where(DoraSample.at >= since))
    if rows:
        dialect = postgresql if _postgresql(session) else sqlite
        insert = dialect.insert(DoraSample.__table__)
        # A sample that moved to `since` or later from before it replaces its old row.
        session.execute(insert.on_conflict_do_update(
            index_elements=["component_ref", "kind", "sample_id"],
            set_={name: insert.excluded[name] for name in SAMPLE_COLUMNS
                  if name not in ("component_ref", "kind", "sample_id")}), rows)
    return len(rows)


def plans_for(session: Session, components: Mapping[str, Sequence[Link]], latest: int
              ) -> tuple[list[Plan], list[str]]:
    """What each component needs to be current up to change `latest`, and the components no change up to
    `latest` touched (current already, though their state does not say so yet)."""
    if not components:
        return [], []
    refs = sorted(components)
    states = {state.component_ref: state for state in session.execute(
        select(DoraRollupState).where(DoraRollupState.component_ref.in_(refs))).scalars()}
    plans, followed, untouched = [], {}, []
    for ref in refs:
        state = states.get(ref)
        if state is None or state.links != links_key(components[ref]):
            plans.append(Plan(ref, tuple(components[ref]), None))
        elif state.consumed_change_id < latest and components[ref]:
            followed[ref] = state.consumed_change_id
    if followed:
        oldest = min(followed.values())
        changes = session.execute(
            select(FlowLinkChange.id, FlowLinkChange.link_annotation, FlowLinkChange.link_value, FlowLinkChange.since)
            .where(FlowLinkChange.id > oldest, FlowLinkChange.id <= latest,
                   links_condition(FlowLinkChange, {link for ref in followed for link in components[ref]}))
        ).all()
        for ref, consumed in followed.items():
            links = set(components[ref])
            moved = [since for change_id, annotation, value, since in changes
                     if change_id > consumed and (annotation, value) in links]
            if moved:
                plans.append(Plan(ref, tuple(components[ref]), min(_aware(since) for since in moved)))
            else:
                untouched.append(ref)
    return plans, untouched


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hold_off_compaction(session: Session) -> None:
    """Take ROLLUP_WRITE_LOCK shared until the transaction ends (waits only for a compaction in progress)."""
    if _postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": ROLLUP_WRITE_LOCK})


def exclude_rollup_writers(session: Session) -> bool:
    """Take ROLLUP_WRITE_LOCK exclusively until the transaction ends if no rollup write is in flight;
    False (and nothing taken) if one is. Never waits: rollup writers arriving later would queue behind it."""
    if not _postgresql(session):
        return True
    return session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ROLLUP_WRITE_LOCK}).scalar_one()


def _lock_state(session: Session, plan: Plan) -> DoraRollupState | None:
    """The component's state row, locked against a concurrent rebuild on PostgreSQL (SQLite has one writer)."""
    # Before the row lock: whoever holds a state row holds this too, so whoever holds it exclusively (and
    # updates state rows) never waits for a row, and a build that waits for it waits for a short transaction.
    hold_off_compaction(session)
    dialect = postgresql if _postgresql(session) else sqlite
    session.execute(dialect.insert(DoraRollupState.__table__).on_conflict_do_nothing(index_elements=["component_ref"]),
                    {"component_ref": plan.component, "links": "", "consumed_change_id": 0, "built_at": EVER})
    return session.execute(select(DoraRollupState).where(DoraRollupState.component_ref == plan.component)
                           .with_for_update().execution_options(populate_existing=True)).scalar_one()


def apply(session: Session, plan: Plan, latest: int, *, force: bool = False) -> int:
    """Bring one component up to change `latest` (`force`: rebuild it even if it is); returns rows written."""
    state = _lock_state(session, plan)
    key = links_key(plan.links)
    if not force and state.links == key and state.consumed_change_id >= latest:
        return 0  # a concurrent request did it while this one waited for the lock
    full = plan.since is None or state.links != key
    written = rebuild(session, Plan(plan.component, plan.links, None if full else plan.since))
    state.links, state.consumed_change_id, state.built_at = key, latest, datetime.now(UTC)
    session.add(state)
    session.flush()
    return written


def last_consumed_change_id(session: Session) -> int:
    """The highest change id any component consumed. Every consumed id was a `latest_change_id` answer, so
    no lower id can still commit: a safe answer when the latest cannot be had without waiting."""
    return session.execute(select(func.coalesce(func.max(DoraRollupState.consumed_change_id), 0))).scalar_one()


def bring_up_to_date(session: Session, components: Mapping[str, Sequence[Link]], *, advance: bool = False,
                     wait_for_writers: bool = False) -> int:
    """Make the rollup current for these components (in the caller's transaction); returns rows written.
    Reads leave the state of components no change touched alone (no write per read); the background
    refresher `advance`s them, so the change log can be compacted.

    A read does not wait for flow writes in flight (an inbox batch holds CHANGE_LOG_LOCK until it
    commits): it brings components only up to the last consumed change, and a later read or the
    refresher, which `wait_for_writers`, consumes the rest."""
    latest = latest_change_id(session, if_busy=None if wait_for_writers else last_consumed_change_id)
    plans, untouched = plans_for(session, components, latest)
    written = sum(apply(session, plan, latest) for plan in plans)
    if advance and untouched:
        hold_off_compaction(session)
        session.execute(update(DoraRollupState).where(DoraRollupState.component_ref.in_(untouched),
                                                      DoraRollupState.consumed_change_id < latest)
                        .values(consumed_change_id=latest))
    return written


def forget_everything(session: Session) -> None:
    """Drop every component's rollup, so each is rebuilt when next read (after records were written or
    deleted without the writer, e.g. the demo data)."""
    hold_off_compaction(session)
    session.execute(delete(DoraSample))
    session.execute(delete(DoraRollupState))


def compact_change_log(session: Session, latest: int) -> int:
    """Delete link changes up to `latest` (a `latest_change_id` answer) that every built component has
    consumed; returns rows deleted. Does nothing while a rollup write is in flight (see ROLLUP_WRITE_LOCK):
    a first build in flight would be missing from "every built component"."""
    if not exclude_rollup_writers(session):
        return 0
    oldest = session.execute(select(func.min(DoraRollupState.consumed_change_id))).scalar_one()
    # With no component built, everything up to `latest` goes: a build starting after this commits reads
    # records that include all of it.
    return forget_consumed(session, latest if oldest is None else min(oldest, latest))
