"""The writer's lifecycle rules (portal/flow/lifecycle.py) on a real database: ties go to the later state,
close times only while closed (whatever arrives late), the earliest incident start stays; the same
answer whether the events come in one batch or one by one, in any order."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.flow.models import FlowChange, FlowIncident, FlowPipelineRun, FlowWorkItem
from portal.flow.records import FlowRecord
from portal.flow.writer import write_records
from tests.flow.factories import T0, change, incident, pipeline_run, work_item

REPO = "octo/app"


def store(session, records: list[FlowRecord], one_by_one: bool) -> None:
    for batch in ([[r] for r in records] if one_by_one else [records]):
        write_records(session, batch)
        session.commit()


def only(session, model):
    [row] = session.execute(select(model)).scalars().all()
    return row


@pytest.mark.parametrize("one_by_one", [True, False], ids=["one-by-one", "one-batch"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_on_a_tie_the_later_state_wins_in_any_order(session, one_by_one, order):
    same = T0 + timedelta(minutes=5)
    events = [pipeline_run(REPO, 1, "queued", T0, source_updated_at=same),
              pipeline_run(REPO, 1, "running", T0, source_updated_at=same),
              pipeline_run(REPO, 1, "success", T0, source_updated_at=same, finished_at=same)]
    store(session, [events[i] for i in order], one_by_one)
    run = only(session, FlowPipelineRun)
    assert (run.status, run.finished_at) == ("success", same)


@pytest.mark.parametrize("one_by_one", [True, False], ids=["one-by-one", "one-batch"])
def test_a_newer_earlier_state_still_wins_and_clears_the_finish(session, one_by_one):
    # A re-run: the same run id queued again after it finished.
    store(session, [pipeline_run(REPO, 2, "success", T0, source_updated_at=T0, finished_at=T0),
                    pipeline_run(REPO, 2, "queued", T0, source_updated_at=T0 + timedelta(hours=1))], one_by_one)
    run = only(session, FlowPipelineRun)
    assert (run.status, run.finished_at) == ("queued", None)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_a_reopened_work_item_keeps_no_resolution_whatever_arrives_late(session, order):
    events = [work_item("ship", "SHIP-1", T0, source_updated_at=T0),
              work_item("ship", "SHIP-1", T0, status="Done", status_category="done",
                        resolved_at=T0 + timedelta(hours=1), source_updated_at=T0 + timedelta(hours=1)),
              work_item("ship", "SHIP-1", T0, status="Reopened", status_category="todo",
                        source_updated_at=T0 + timedelta(hours=2))]
    store(session, [events[i] for i in order], one_by_one=True)
    item = only(session, FlowWorkItem)
    assert (item.status, item.resolved_at) == ("Reopened", None)


def test_a_reopened_change_has_no_close_time(session):
    store(session, [change(REPO, 3, T0, state="closed", closed_at=T0 + timedelta(hours=1),
                           source_updated_at=T0 + timedelta(hours=1)),
                    change(REPO, 3, T0, state="open", source_updated_at=T0 + timedelta(hours=2))], one_by_one=True)
    assert (only(session, FlowChange).state, only(session, FlowChange).closed_at) == ("open", None)


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=str)
def test_an_incident_ends_at_its_final_resolution_and_keeps_its_first_start(session, order):
    t = [T0 + timedelta(hours=h) for h in range(4)]
    events = [incident("PSVC1", 7, t[0], source_updated_at=t[0]),
              incident("PSVC1", 7, None, status="resolved", resolved_at=t[1], source_updated_at=t[1]),
              incident("PSVC1", 7, t[2], status="triggered", source_updated_at=t[2]),  # reopened, a later "start"
              incident("PSVC1", 7, None, status="resolved", resolved_at=t[3], source_updated_at=t[3])]
    store(session, [events[i] for i in order], one_by_one=True)
    row = only(session, FlowIncident)
    assert (row.status, row.created_at, row.resolved_at) == ("resolved", t[0], t[3])


def test_an_unknown_state_never_wins_a_tie(session):
    same = T0 + timedelta(minutes=5)
    store(session, [pipeline_run(REPO, 4, "running", T0, source_updated_at=same),
                    pipeline_run(REPO, 4, "paused-by-tool", T0, source_updated_at=same)], one_by_one=True)
    assert only(session, FlowPipelineRun).status == "running"
