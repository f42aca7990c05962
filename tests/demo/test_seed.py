"""Seeding is deterministic, labelled, idempotent and removable, and touches nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.demo.labels import DEMO_CONNECTION, DEMO_ID_PREFIX, DEMO_NOTE, DEMO_TITLE_PREFIX
from portal.demo.seed import DemoError, demo_counts, demo_year, remove_demo, seed_demo
from portal.flow.models import FlowChange, FlowWorkItemTransition
from portal.flow.records import RECORD_TABLES, FlowRecord
from portal.flow.writer import write_records
from portal.requests import service
from portal.requests.models import Request, RequestEvent
from tests.demo.conftest import UNTIL
from tests.demo.snapshots import flow_snapshot, request_snapshot


def _seed(session, year):  # noqa: ANN001, ANN202
    summary = seed_demo(session, year)
    session.commit()
    return summary


def test_the_same_seed_gives_the_same_rows(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    _seed(session, short_year)
    first_flow, first_requests = flow_snapshot(session), request_snapshot(session)
    remove_demo(session)
    session.commit()
    assert sum(demo_counts(session).values()) == 0
    _seed(session, short_year)
    assert flow_snapshot(session) == first_flow
    assert request_snapshot(session) == first_requests
    assert sum(len(rows) for rows in first_flow.values()) > 1_000


def test_another_seed_gives_other_rows(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    _seed(session, short_year)
    first = flow_snapshot(session)
    _seed(session, demo_year(8, 90, UNTIL))
    assert flow_snapshot(session)["change"] != first["change"]


def test_seeding_twice_does_not_duplicate(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    summary = _seed(session, short_year)
    counts = demo_counts(session)
    _seed(session, short_year)
    assert demo_counts(session) == counts
    assert counts["requests"] == summary.orders + summary.ideas
    assert counts["flow_changes"] == summary.flow_records["change"]
    transitions = session.execute(select(func.count()).select_from(FlowWorkItemTransition)).scalar_one()
    assert transitions == summary.flow_records["transition"]


def test_every_row_is_labelled(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    _seed(session, short_year)
    for kind, model in RECORD_TABLES.items():
        if kind == "transition":
            ids = session.execute(select(model.work_item_id)).scalars().all()
        elif kind == "incident_event":
            ids = session.execute(select(model.incident_id)).scalars().all()  # none seeded yet; any must be demo
        else:
            rows = session.execute(select(model.id, model.connection)).all()
            assert rows, kind
            assert {connection for _, connection in rows} == {DEMO_CONNECTION}
            ids = [row_id for row_id, _ in rows]
        assert all(row_id.startswith(DEMO_ID_PREFIX) for row_id in ids), kind
    requests = session.execute(select(Request)).scalars().all()
    assert requests and all(request.title.startswith(DEMO_TITLE_PREFIX) for request in requests)
    first_notes = session.execute(select(RequestEvent.note).where(RequestEvent.from_stage.is_(None))).scalars().all()
    assert len(first_notes) == len(requests) and set(first_notes) == {DEMO_NOTE}


def test_remove_deletes_demo_data_and_nothing_else(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    _seed(session, short_year)
    # A real record on a connection that happens to be called "demo", and a real order whose title
    # looks like a demo one: neither carries both labels, so both stay.
    at = datetime(2026, 11, 2, tzinfo=UTC)
    write_records(session, [FlowRecord("change", {
        "id": "github:northwind/tracking-service#9001", "source": "github", "connection": "demo",
        "link_annotation": "github.com/project-slug", "link_value": "northwind/tracking-service",
        "repository": "northwind/tracking-service", "number": 9001, "state": "merged", "created_at": at,
        "merged_at": at, "source_updated_at": at})])
    real = service.create_order(session, capability="capability:default/ci-pipeline",
                                requester="user:default/amelie.durand", title=f"{DEMO_TITLE_PREFIX}not really",
                                parameters={"repository": "northwind/tracking-service", "language": "python"})
    session.commit()
    removed = remove_demo(session)
    session.commit()
    assert removed["flow_changes"] > 0 and removed["requests"] > 0
    assert session.execute(select(FlowChange.id)).scalars().all() == ["github:northwind/tracking-service#9001"]
    assert session.execute(select(Request.id)).scalars().all() == [real.id]
    assert session.execute(select(func.count()).select_from(FlowWorkItemTransition)).scalar_one() == 0
    assert remove_demo(session) == {key: 0 for key in removed}  # nothing left to remove


def test_flow_data_or_requests_can_be_left_out(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year, flow_data=False)
    counts = demo_counts(session)
    assert counts["requests"] > 0 and counts["flow_changes"] == 0
    seed_demo(session, short_year, requests=False)
    counts = demo_counts(session)
    # Seeding only flow data leaves the requests of the earlier run alone.
    assert counts["flow_changes"] > 0 and counts["requests"] > 0


def test_without_the_demo_catalog_seeding_says_what_to_do(session, short_year) -> None:  # noqa: ANN001
    with pytest.raises(DemoError, match="load the demo organisation first"):
        seed_demo(session, short_year)


@pytest.mark.parametrize(("seed", "days", "words"), [
    (1, 0, "--days must be between 1 and"), (1, 10**20, "--days must be between"),
    (-1, 30, "--seed must be a whole number"), (2**64, 30, "--seed must be"),
])
def test_bad_options_are_refused(seed: int, days: int, words: str) -> None:
    with pytest.raises(DemoError, match=words):
        demo_year(seed, days)
