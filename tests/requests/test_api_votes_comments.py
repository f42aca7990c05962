"""Votes (one per person) and comments on ideas."""

from __future__ import annotations

from tests.web.csrf_support import holds_nul

import pytest

from tests.requests.factories import OUTSIDER, OWNER, REQUESTER

URL = "/api/v1/requests"


def raise_idea(client) -> str:
    response = client.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "Go golden path"})
    assert response.status_code == 201
    return response.json()["id"]


def test_one_vote_per_person_and_voting_again_changes_nothing(client_as):
    idea = raise_idea(client_as(REQUESTER))
    outsider = client_as(OUTSIDER)
    first = outsider.post(f"{URL}/{idea}/votes")
    assert first.status_code == 201 and first.json()["votes"] == 1
    again = outsider.post(f"{URL}/{idea}/votes")
    assert again.status_code == 200 and again.json()["votes"] == 1
    assert client_as(OWNER).post(f"{URL}/{idea}/votes").json()["votes"] == 2
    assert client_as(None).get(f"{URL}/{idea}").json()["votes"] == 2


def test_anonymous_votes_count_once_where_allowed(api):
    idea = raise_idea(api)
    assert api.post(f"{URL}/{idea}/votes").status_code == 201
    assert api.post(f"{URL}/{idea}/votes").json()["votes"] == 1


def test_orders_take_no_votes_or_comments(api):
    order = api.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    assert api.post(f"{URL}/{order}/votes").status_code == 409
    assert api.post(f"{URL}/{order}/comments", json={"body": "hello"}).status_code == 409


def test_comments_are_added_and_listed_oldest_first(client_as):
    idea = raise_idea(client_as(REQUESTER))
    first = client_as(OUTSIDER).post(f"{URL}/{idea}/comments", json={"body": "We need this for billing"})
    assert first.status_code == 201, first.text
    assert first.json()["author"] == OUTSIDER and first.json()["body"] == "We need this for billing"
    client_as(OWNER).post(f"{URL}/{idea}/comments", json={"body": "Planned for Q3"})
    listed = client_as(None).get(f"{URL}/{idea}/comments").json()
    assert [(c["author"], c["body"]) for c in listed["items"]] == [
        (OUTSIDER, "We need this for billing"), (OWNER, "Planned for Q3")]
    assert listed["totalItems"] == 2


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "x" * 5001}, {"body": "a\u0000b"}, {},
                                  {"body": ["list"]}])
def test_bad_comments_are_422(api, body):
    idea = raise_idea(api)
    assert api.post(f"{URL}/{idea}/comments", json=body).status_code == (400 if holds_nul(body) else 422)
    assert api.get(f"{URL}/{idea}/comments").json()["totalItems"] == 0


def test_votes_and_comments_on_unknown_requests_are_404(api):
    assert api.post(f"{URL}/REQ-404/votes").status_code == 404
    assert api.post(f"{URL}/REQ-404/comments", json={"body": "x"}).status_code == 404
    assert api.get(f"{URL}/REQ-404/comments").status_code == 404
