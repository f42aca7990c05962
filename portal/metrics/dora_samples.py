"""A scope's DORA samples for a window, read from the rollup (portal/metrics/dora_rollup.py).

Each component's rows are already attributed; what is left is taking a record several components
share once, by the same rules as portal/metrics/dora.collect_samples: a change counts against the
earliest deployment that ships it among the components, an incident against the latest deployment
before it. Those choices are window functions, so a product's year is four indexed reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import distinct, func, select
from sqlmodel import Session

from portal.metrics.dora import LeadTime, SampleSummary
from portal.metrics.dora_records import LOOKBACK
from portal.metrics.dora_rollup_models import DoraSample
from portal.metrics.window import Window

S = DoraSample


def _of(components: list[str], kind: str, *conditions):  # noqa: ANN002, ANN202 - SQL conditions
    return (S.component_ref.in_(components), S.kind == kind, *conditions)


def _in(window: Window) -> tuple:
    return S.at >= window.start, S.at < window.end


def read_summary(session: Session, components: Iterable[str], window: Window) -> SampleSummary:
    """Counts and sample values for the window over these components' rollup rows."""
    components = sorted(set(components))
    if not components:
        return SampleSummary(0, 0, 0, [], [], [])
    deployed, days = session.execute(
        select(func.count(distinct(S.sample_id)), func.count(distinct(S.day))).where(*_of(components, "deployment",
                                                                                          *_in(window)))).one()
    return SampleSummary(deployed, days, _failed(session, components, window),
                         _lead_times(session, components, window), *_incidents(session, components, window))


def _failed(session: Session, components: list[str], window: Window) -> int:
    # An incident's candidates lie within LOOKBACK before it, so within LOOKBACK of each other: rows up to
    # LOOKBACK after the window are enough to tell whether a later one wins.
    latest = func.row_number().over(partition_by=S.sample_id, order_by=(S.at.desc(), S.deployment_id.desc()))
    ranked = select(S.deployment_id, S.at, latest.label("rank")).where(
        *_of(components, "failure", S.at >= window.start, S.at < window.end + LOOKBACK)).subquery()
    return session.execute(select(func.count(distinct(ranked.c.deployment_id)))
                           .where(ranked.c.rank == 1, ranked.c.at < window.end)).scalar_one()


def _lead_times(session: Session, components: list[str], window: Window) -> list[LeadTime]:
    shipped_in = select(S.sample_id).where(*_of(components, "lead", *_in(window)))
    earliest = func.row_number().over(partition_by=S.sample_id, order_by=(S.at, S.deployment_id))
    ranked = select(S.at, S.seconds, S.coding_seconds, S.review_seconds, S.deploy_seconds, earliest.label("rank")).where(
        *_of(components, "lead", S.sample_id.in_(shipped_in), S.at < window.end)).subquery()
    rows = session.execute(select(ranked.c.seconds, ranked.c.coding_seconds, ranked.c.review_seconds,
                                  ranked.c.deploy_seconds)
                           .where(ranked.c.rank == 1, ranked.c.at >= window.start, ranked.c.seconds.is_not(None))).all()
    return [LeadTime(*row) for row in rows]


def _incidents(session: Session, components: list[str], window: Window) -> tuple[list[float], list[float]]:
    latest = func.row_number().over(partition_by=S.sample_id, order_by=(S.deployment_at.desc().nulls_last(),
                                                                         S.deployment_id.desc().nulls_last()))
    ranked = select(S.seconds, S.recovery_seconds, latest.label("rank")).where(
        *_of(components, "incident", *_in(window))).subquery()
    rows = session.execute(select(ranked.c.seconds, ranked.c.recovery_seconds).where(ranked.c.rank == 1)).all()
    return ([recovery for _, recovery in rows if recovery is not None],
            [restore for restore, _ in rows if restore is not None])
