"""Service rules on the real database: lead time and `breached`, votes under a unique key, no commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from portal.requests import service
from portal.requests.inputs import RequestProblem
from portal.requests.listing import is_breached, one_request_json
from portal.requests.models import Request, RequestVote
from tests.requests.factories import OWNER, REQUESTER


def _backdate(session: Session, row: Request, by: timedelta) -> None:
    row.created_at -= by
    session.add(row)
    session.flush()


def test_an_order_breaches_when_it_takes_longer_than_its_target(session, catalog):
    row = service.create_order(session, capability="feature-flags", requester=REQUESTER)  # P3D
    assert row.target_lead_time == "P3D" and row.target_lead_time_seconds == 259_200
    assert not is_breached(row)
    _backdate(session, row, timedelta(days=3, minutes=1))
    assert is_breached(row) and one_request_json(session, row)["breached"] is True


def test_the_clock_stops_at_delivery_and_runs_again_when_reopened(session, catalog):
    row = service.create_order(session, capability="feature-flags", requester=REQUESTER)
    service.transition(session, row, to="delivered", actor=OWNER)
    assert row.lead_time_ended_at is not None
    _backdate(session, row, timedelta(days=10))
    # Raised ten days before its delivery: a breach of the three-day target.
    assert is_breached(row)
    row.lead_time_ended_at = row.created_at + timedelta(days=1)
    assert not is_breached(row)
    service.transition(session, row, to="fulfilling", actor=OWNER)
    assert row.lead_time_ended_at is None and is_breached(row)


def test_terminal_stages_stop_the_clock(session, catalog):
    row = service.create_order(session, capability="feature-flags", requester=REQUESTER)
    service.transition(session, row, to="cancelled", actor=REQUESTER)
    ended = row.lead_time_ended_at
    assert ended is not None
    service.transition(session, row, to="failed", actor=OWNER)
    assert row.lead_time_ended_at == ended  # the first end counts


def test_ideas_and_capabilities_without_a_target_never_breach(session, catalog):
    idea = service.create_idea(session, product="delivery-platform", title="x", requester=REQUESTER)
    _backdate(session, idea, timedelta(days=1000))
    assert not is_breached(idea)


def test_the_service_flushes_and_leaves_the_commit_to_its_caller(engine, session, catalog):
    row = service.create_order(session, capability="feature-flags", requester=REQUESTER)
    assert row.id is not None
    session.rollback()
    with Session(engine) as other:
        assert other.execute(select(Request)).first() is None


def test_a_vote_that_meets_the_unique_key_counts_once(session, catalog):
    idea = service.create_idea(session, product="delivery-platform", title="x", requester=REQUESTER)
    # As if another request of the same person had voted between our check and our insert.
    session.add(RequestVote(request_id=idea.id, voter_ref=OWNER, at=service.utcnow()))
    session.flush()
    assert service.vote(session, idea, OWNER) is False
    assert service.vote(session, idea, REQUESTER) is True
    assert idea.vote_count == 1
    assert len(session.execute(select(RequestVote)).all()) == 2


def test_automation_records_its_source(session, catalog):
    row = service.create_order(session, capability="new-python-service", requester=REQUESTER)
    event = service.transition(session, row, to="fulfilling", actor="template:default/python", source="automation",
                               note="Task started")
    assert (event.source, event.from_stage, event.is_rework) == ("automation", "submitted", False)


def test_an_unknown_stage_is_a_422_naming_to(session, catalog):
    row = service.create_order(session, capability="feature-flags", requester=REQUESTER)
    with pytest.raises(RequestProblem) as refused:
        service.transition(session, row, to="nowhere", actor=OWNER)
    assert refused.value.status == 422 and refused.value.details[0].path == "to"
