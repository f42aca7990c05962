"""/api/v1/notifications: each person reads and marks only their own."""

from __future__ import annotations

import pytest

from tests.requests.factories import APPROVER, OWNER, REQUESTER
from tests.requests.page_clients import move, raise_idea, raise_order

URL = "/api/v1/notifications"


def test_only_the_recipient_sees_a_notification(person):
    order = raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER).get(URL).json()
    assert owner["unread"] == 1
    item = owner["items"][0]
    assert (item["request"], item["kind"], item["url"], item["readAt"]) == (order, "new-work", f"/requests/{order}",
                                                                           None)
    assert item["text"] == f"New order to fulfil: {order} “Feature flags”"
    assert person(REQUESTER).get(URL).json() == {"items": [], "unread": 0, "pageInfo": {}}
    assert person(APPROVER).get(URL).json()["items"] == []


def test_marking_others_notifications_changes_nothing(person):
    raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    notification_id = owner.get(URL).json()["items"][0]["id"]
    response = person(APPROVER).post(f"{URL}/read", json={"ids": [notification_id]})
    assert response.status_code == 200 and response.json() == {"marked": 0, "unread": 0}
    assert owner.get(URL).json()["unread"] == 1
    assert owner.post(f"{URL}/read", json={"ids": [notification_id]}).json() == {"marked": 1, "unread": 0}
    assert owner.get(URL).json()["items"][0]["readAt"] is not None


def test_mark_all_read_and_the_unread_filter(person):
    requester, owner = person(REQUESTER), person(OWNER)
    for _ in range(3):
        raise_idea(requester)
    assert len(owner.get(f"{URL}?unread=true").json()["items"]) == 3
    assert owner.post(f"{URL}/read", json={"all": True}).json() == {"marked": 3, "unread": 0}
    assert owner.get(f"{URL}?unread=true").json()["items"] == []
    assert len(owner.get(URL).json()["items"]) == 3


def test_paging_with_before(person):
    requester, owner = person(REQUESTER), person(OWNER)
    ideas = [raise_idea(requester, f"Idea {n}") for n in range(5)]
    seen, path = [], f"{URL}?limit=2"
    while path:
        body = owner.get(path).json()
        seen += [item["request"] for item in body["items"]]
        before = body["pageInfo"].get("nextBefore")
        path = f"{URL}?limit=2&before={before}" if before else None
    assert seen == list(reversed(ideas))


@pytest.mark.parametrize("body", [{}, {"ids": "1"}, {"ids": ["1"]}, {"ids": [2**63]}, {"ids": [0]},
                                  {"ids": [1] * 501}, {"all": "yes"}, {"all": True, "extra": 1}, [1, 2]])
def test_bad_mark_read_bodies_are_4xx(person, body):
    response = person(OWNER).post(f"{URL}/read", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("query", ["before=0", "before=99999999999999999999", "limit=0", "limit=1000",
                                   "unread=maybe", "before=abc"])
def test_bad_list_queries_are_4xx(person, query):
    assert 400 <= person(OWNER).get(f"{URL}?{query}").status_code < 500


def test_anonymous_callers_in_production_get_401(settings, catalog):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from tests.auth.people import production_settings

    with TestClient(create_app(production_settings(settings))) as client:
        assert client.get(URL).status_code == 401
        assert client.post(f"{URL}/read", json={"all": True}).status_code in (401, 403)
        assert client.get("/notifications", headers={"accept": "text/html"}).status_code == 401


def test_moves_are_what_the_requester_reads(person):
    order = raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    move(owner, order, "fulfilling")
    move(owner, order, "delivered")
    kinds = [item["kind"] for item in person(REQUESTER).get(URL).json()["items"]]
    assert kinds == ["value-requested", "stage-changed"]
