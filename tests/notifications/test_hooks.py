"""Who is notified when a request is raised or moves (portal/notifications/hooks.py)."""

from __future__ import annotations

from sqlalchemy import select

from portal.notifications.models import Notification
from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER
from tests.requests.page_clients import move, post_form, raise_idea, raise_order


def notices(session) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.execute(select(Notification).order_by(Notification.id)).scalars()
    return [(row.recipient_ref, f"REQ-{row.request_id}", row.kind) for row in rows]


def test_an_order_awaiting_approval_tells_the_approvers_and_its_decision_the_requester(person, session):
    request_id = raise_order(person(REQUESTER))
    assert notices(session) == [(APPROVER, request_id, "approval-needed")]
    post_form(person(APPROVER), f"/requests/{request_id}/decision", {"decision": "approve"})
    assert notices(session)[1:] == [(REQUESTER, request_id, "stage-changed")]
    texts = session.execute(select(Notification.text).order_by(Notification.id)).scalars().all()
    assert texts[1] == f"{request_id} “Progressive delivery” moved from awaiting-approval to fulfilling"


def test_a_manual_order_and_an_idea_tell_the_owners(person, session):
    order = raise_order(person(REQUESTER), "feature-flags")
    idea = raise_idea(person(REQUESTER))
    assert notices(session) == [(OWNER, order, "new-work"), (OWNER, idea, "new-idea")]


def test_an_automated_order_tells_nobody_until_it_moves(person, session):
    order = raise_order(person(REQUESTER), "new-python-service")
    assert notices(session) == []
    move(person(OWNER), order, "fulfilling")
    assert notices(session) == [(REQUESTER, order, "stage-changed")]


def test_delivery_asks_the_requester_for_the_value(person, session):
    order = raise_order(person(REQUESTER), "feature-flags")
    move(person(OWNER), order, "delivered")
    assert notices(session)[-1] == (REQUESTER, order, "value-requested")


def test_nobody_is_told_about_what_they_did_themselves(person, session):
    order = raise_order(person(REQUESTER), "feature-flags")
    move(person(REQUESTER), order, "cancelled")
    assert notices(session) == [(OWNER, order, "new-work")]


def test_a_request_moved_back_to_approval_tells_the_approvers_again(person, session):
    order = raise_order(person(REQUESTER))
    post_form(person(APPROVER), f"/requests/{order}/decision", {"decision": "approve"})
    # Owners of the capability (team-dx) send it back for another look.
    move(person(OWNER), order, "awaiting-approval")
    assert notices(session)[-2:] == [(REQUESTER, order, "stage-changed"), (APPROVER, order, "approval-needed")]


def test_teammates_are_not_notified_of_each_others_requests(person, session):
    raise_order(person(REQUESTER), "feature-flags")
    assert OUTSIDER not in {recipient for recipient, _, _ in notices(session)}
