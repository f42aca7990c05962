"""The owners' queues: awaiting my approval, manual work my groups own, ideas to triage, with counts."""

from __future__ import annotations

import pytest

from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER
from tests.requests.page_clients import (  # noqa: F401 - fixtures
    HTML,
    JSON,
    STRANGER,
    involved_app,
    move,
    page,
    person,
    raise_idea,
    raise_order,
)


def queues_of(client) -> dict[str, list[str]]:
    body = client.get("/queues", headers=JSON).json()["queues"]
    return {name: [item["id"] for item in queue["items"]] for name, queue in body.items()}


def test_each_person_sees_what_waits_on_their_groups(person):
    requester = person(REQUESTER)
    approval = raise_order(requester)                                 # approvers: team-sre
    manual = raise_order(requester, "feature-flags")                  # manual, owned by team-dx
    through_product = raise_order(requester, "hardened-image")         # manual, security-platform (team-dx)
    automated = raise_order(requester, "new-python-service")           # automation's, not the owners'
    idea = raise_idea(requester)                                      # delivery-platform (team-dx)
    sre_idea = raise_idea(requester, product="runtime-platform")      # team-sre owns runtime-platform
    assert queues_of(person(APPROVER)) == {"approval": [approval], "work": [], "triage": [sre_idea]}
    owner = queues_of(person(OWNER))
    assert owner["approval"] == []
    assert sorted(owner["work"]) == sorted([manual, through_product]) and automated not in owner["work"]
    assert owner["triage"] == [idea]
    assert queues_of(person(OUTSIDER)) == {"approval": [], "work": [], "triage": []}
    assert queues_of(person(STRANGER)) == {"approval": [], "work": [], "triage": []}


def test_items_leave_the_queues_as_they_move_on(person):
    requester, owner, approver = person(REQUESTER), person(OWNER), person(APPROVER)
    approval = raise_order(requester)
    manual = raise_order(requester, "feature-flags")
    idea = raise_idea(requester)
    approver.post(f"/api/v1/requests/{approval}/decision", json={"decision": "approve"})
    move(owner, manual, "fulfilling")
    assert queues_of(owner)["work"] == [manual]  # fulfilling is still the owners' work
    move(owner, manual, "delivered")
    move(owner, idea, "triaged")
    assert queues_of(owner) == {"approval": [], "work": [], "triage": []}
    assert queues_of(approver)["approval"] == []


def test_the_page_shows_counts_and_each_queue_pages_on_its_own(person):
    requester, owner = person(REQUESTER), person(OWNER)
    orders = [raise_order(requester, "feature-flags") for _ in range(12)]
    html = page(owner, "/queues")
    assert 'data-queue="work">12</span>' in html and 'data-queue="approval">0</span>' in html
    assert html.count('<a href="/requests/REQ-') == 10  # a preview of each queue
    assert 'href="/queues?queue=work"' in html
    full = page(owner, "/queues?queue=work")
    assert all(f'href="/requests/{public_id}"' in full for public_id in orders)
    assert 'link rel="alternate" type="application/json" href="/queues?queue=work"' in full


@pytest.mark.parametrize("query", ["queue=everything", "queue=%00", "queue=work&cursor=zzz"])
def test_bad_queue_parameters_are_readable_400s(person, query):
    response = person(OWNER).get(f"/queues?{query}", headers=HTML)
    assert response.status_code == 400 and "Traceback" not in response.text
