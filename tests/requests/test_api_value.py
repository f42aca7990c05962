"""POST /api/v1/requests/{id}/value: the requester rates a delivered order and says what it saved."""

from __future__ import annotations

from tests.web.csrf_support import assert_refused_for_nul, holds_nul

import pytest

from tests.requests.factories import OUTSIDER, OWNER, REQUESTER

URL = "/api/v1/requests"


@pytest.fixture
def delivered(client_as) -> str:
    request_id = client_as(REQUESTER).post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    owner = client_as(OWNER)
    for to in ("fulfilling", "delivered"):
        assert owner.post(f"{URL}/{request_id}/transitions", json={"to": to}).status_code == 200
    return request_id


def test_the_requester_confirms_value_and_the_order_moves_on(client_as, delivered):
    response = client_as(REQUESTER).post(f"{URL}/{delivered}/value",
                                         json={"rating": 4, "timeSaved": "PT6H", "comment": "Saved a sprint task"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stage"] == "value-confirmed"
    assert body["value"] | {"confirmedAt": None} == {"rating": 4, "timeSaved": "PT6H",
                                                     "comment": "Saved a sprint task", "confirmedAt": None}
    assert body["events"][-1]["from"] == "delivered" and body["events"][-1]["actor"] == REQUESTER


def test_confirming_again_updates_the_value_without_a_new_event(client_as, delivered):
    requester = client_as(REQUESTER)
    requester.post(f"{URL}/{delivered}/value", json={"rating": 4, "timeSaved": "PT6H"})
    body = requester.post(f"{URL}/{delivered}/value", json={"rating": 5, "timeSaved": "P1D"}).json()
    assert body["value"]["rating"] == 5 and body["value"]["timeSaved"] == "P1D"
    assert [e["to"] for e in body["events"]].count("value-confirmed") == 1


@pytest.mark.parametrize("person", [OWNER, OUTSIDER])
def test_only_the_requester_confirms_value(client_as, delivered, person):
    response = client_as(person).post(f"{URL}/{delivered}/value", json={"rating": 5, "timeSaved": "PT1H"})
    assert response.status_code == 403 and REQUESTER in response.json()["error"]["message"]


@pytest.mark.parametrize(("body", "path"), [
    ({"rating": 0, "timeSaved": "PT1H"}, "rating"), ({"rating": 6, "timeSaved": "PT1H"}, "rating"),
    ({"rating": 4.5, "timeSaved": "PT1H"}, "rating"), ({"rating": "5", "timeSaved": "PT1H"}, "rating"),
    ({"rating": True, "timeSaved": "PT1H"}, "rating"), ({"timeSaved": "PT1H"}, "rating"),
    ({"rating": 3, "timeSaved": "P1Y"}, "timeSaved"), ({"rating": 3, "timeSaved": "a while"}, "timeSaved"),
    ({"rating": 3, "timeSaved": "P400D"}, "timeSaved"), ({"rating": 3}, "timeSaved"),
    ({"rating": 3, "timeSaved": "PT1H", "comment": "\u0000"}, "comment"),
])
def test_bad_values_are_422_naming_the_field(client_as, delivered, body, path):
    response = client_as(REQUESTER).post(f"{URL}/{delivered}/value", json=body)
    if holds_nul(body):
        assert_refused_for_nul(response)
    else:
        assert response.status_code == 422, response.text
        assert path in [d["path"] for d in response.json()["error"]["details"]]
    assert client_as(None).get(f"{URL}/{delivered}").json()["stage"] == "delivered"


def test_value_waits_for_delivery_and_is_for_orders(api):
    request_id = api.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    response = api.post(f"{URL}/{request_id}/value", json={"rating": 5, "timeSaved": "PT1H"})
    assert response.status_code == 409 and "'submitted'" in response.json()["error"]["message"]
    idea = api.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "x"}).json()["id"]
    assert api.post(f"{URL}/{idea}/value", json={"rating": 5, "timeSaved": "PT1H"}).status_code == 409


def test_value_of_an_in_use_order(api):
    request_id = api.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    api.post(f"{URL}/{request_id}/transitions", json={"to": "in-use"})
    body = api.post(f"{URL}/{request_id}/value", json={"rating": 1, "timeSaved": "PT0S"}).json()
    assert body["stage"] == "value-confirmed" and body["value"]["rating"] == 1
