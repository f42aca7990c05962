"""Compacting the flow link change log never takes a change from a component that has not consumed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from portal.flow.link_changes import FlowLinkChange
from portal.flow.writer import write_records
from portal.metrics.api_dora import dora_of_components
from portal.metrics.dora_refresher import refresh_round
from portal.metrics.entities import component_links
from portal.metrics.window import Window
from tests.flow.factories import GITHUB, deployment, make_component

BASE = datetime(2024, 3, 1, tzinfo=UTC)
# Far enough apart that rebuilding from the later deployment's change (90 days back) misses the earlier one.
LATER = BASE + timedelta(days=200)
EVERYTHING = Window(BASE - timedelta(days=30), LATER + timedelta(days=30))


def _component(session: Session, name: str) -> str:
    make_component(session, name, {GITHUB: f"acme/{name}"})
    return f"component:default/{name}"


def _deployments(session: Session, ref: str) -> int:
    """Deployments of the component as a read answers them (bringing the rollup up to date first)."""
    answer = dora_of_components(session, component_links(session, [ref]), EVERYTHING, "2023")
    session.commit()
    return answer["deploymentFrequency"]["samples"]


def _write(engine, repo: str, number: int, at: datetime) -> None:
    """One production deployment, written and committed in a transaction of its own."""
    with Session(engine) as writer:
        write_records(writer, [deployment(repo, number, "production", at)])
        writer.commit()


def test_a_change_logged_after_the_log_was_compacted_is_seen(session, engine):
    """SQLite numbers a row one past the highest id in the table: an emptied log would number the next
    change 1, which every component has consumed already."""
    ref = _component(session, "ca")
    for number in range(1, 4):
        _write(engine, "acme/ca", number, BASE + timedelta(hours=number))
    assert _deployments(session, ref) == 3
    refresh_round(engine)
    newest = session.execute(select(FlowLinkChange.id)).scalars().all()
    _write(engine, "acme/ca", 4, LATER)
    session.expire_all()
    assert session.execute(select(FlowLinkChange.id)).scalars().all() == [*newest, newest[-1] + 1]
    assert _deployments(session, ref) == 4
