"""POST /api/v1/requests/{id}/transitions: the owners move requests; going back is counted as rework."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.requests.models import RequestEvent
from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER

URL = "/api/v1/requests"


def raise_order(client, capability: str = "feature-flags") -> str:
    response = client.post(URL, json={"kind": "order", "capability": capability})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def move(client, request_id: str, to: str, **extra):
    return client.post(f"{URL}/{request_id}/transitions", json={"to": to, **extra})


def test_owners_move_an_order_and_every_move_is_an_event(client_as):
    request_id = raise_order(client_as(REQUESTER))
    owner = client_as(OWNER)
    assert move(owner, request_id, "fulfilling", note="Creating the Unleash project").status_code == 200
    response = move(owner, request_id, "delivered", workTime="PT2H30M")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stage"] == "delivered"
    assert [(e["from"], e["to"], e["actor"]) for e in body["events"]] == [
        (None, "submitted", REQUESTER), ("submitted", "fulfilling", OWNER), ("fulfilling", "delivered", OWNER)]
    assert body["events"][1]["note"] == "Creating the Unleash project"
    assert body["events"][2]["workTimeSeconds"] == 9_000
    assert body["updatedAt"] == body["events"][2]["at"]


@pytest.mark.parametrize("person", [REQUESTER, APPROVER])
def test_people_outside_the_owner_groups_get_403_naming_them(client_as, person):
    request_id = raise_order(client_as(REQUESTER))
    response = move(client_as(person), request_id, "fulfilling")
    assert response.status_code == 403
    assert "group:default/team-dx" in response.json()["error"]["message"]


def test_requesters_may_cancel_their_own_request_and_nobody_elses(client_as):
    mine = raise_order(client_as(REQUESTER))
    assert move(client_as(OUTSIDER), mine, "cancelled").status_code == 403
    response = move(client_as(REQUESTER), mine, "cancelled", note="Not needed any more")
    assert response.status_code == 200 and response.json()["stage"] == "cancelled"


def test_product_owners_move_ideas_through_their_products_own_stages(client_as):
    idea = client_as(REQUESTER).post(URL, json={"kind": "idea", "product": "runtime-platform",
                                                "title": "Managed Kafka"}).json()["id"]
    assert move(client_as(OWNER), idea, "discovery").status_code == 403  # team-dx does not own runtime
    approver = client_as(APPROVER)  # team-sre owns the runtime platform
    assert move(approver, idea, "triaged").status_code == 422  # a default stage this product replaced
    assert move(approver, idea, "discovery").json()["stage"] == "discovery"


def test_orders_follow_the_stages_their_capabilitys_product_defines(api):
    hardened = raise_order(api, "hardened-image")
    assert move(api, hardened, "security-review").json()["stage"] == "security-review"
    assert move(api, hardened, "fulfilling").json()["events"][-1]["rework"] is False
    assert move(api, hardened, "security-review").json()["events"][-1]["rework"] is True
    assert move(api, raise_order(api), "security-review").status_code == 422  # not a default stage


def test_rework_is_flagged_on_each_move_back_and_on_reopening(api, session):
    request_id = raise_order(api)
    for to in ("fulfilling", "delivered", "fulfilling", "failed", "fulfilling", "delivered", "in-use"):
        assert move(api, request_id, to).status_code == 200, to
    events = api.get(f"{URL}/{request_id}").json()["events"]
    assert [(e["to"], e["rework"]) for e in events] == [
        ("submitted", False), ("fulfilling", False), ("delivered", False), ("fulfilling", True),
        ("failed", False), ("fulfilling", True), ("delivered", False), ("in-use", False)]
    stored = session.execute(select(RequestEvent.is_rework)).scalars().all()
    assert stored.count(True) == 2


@pytest.mark.parametrize(("body", "status", "path"), [
    ({"to": "teleported"}, 422, "to"),
    ({"to": "submitted"}, 409, None),
    ({"to": "delivered", "workTime": "soon"}, 422, "workTime"),
    ({"to": "delivered", "workTime": "P400D"}, 422, "workTime"),
    ({"to": "delivered", "note": "x" * 2001}, 422, "note"),
    ({"to": "delivered", "note": "nul\u0000"}, 400, None),  # the request guards refuse any NUL
    ({"to": "x" * 101}, 422, "to"),
    ({"to": 5}, 422, "to"),
    ({"note": "where to?"}, 422, "to"),
    ({"to": "delivered", "source": "automation"}, 422, "source"),
])
def test_bad_transitions_are_refused_and_change_nothing(api, body, status, path):
    request_id = raise_order(api)
    response = api.post(f"{URL}/{request_id}/transitions", json=body)
    assert response.status_code == status, response.text
    if path:
        assert path in [d["path"] for d in response.json()["error"]["details"]]
    after = api.get(f"{URL}/{request_id}").json()
    assert after["stage"] == "submitted" and len(after["events"]) == 1


def test_a_finished_order_is_moved_back_before_it_can_end(api):
    request_id = raise_order(api)
    for to in ("delivered", "value-confirmed"):
        move(api, request_id, to)
    assert move(api, request_id, "cancelled").status_code == 409
    assert move(api, request_id, "in-use").json()["events"][-1]["rework"] is True


@pytest.mark.parametrize("request_id", ["REQ-999", "req-abc", "42", "REQ-99999999999", "REQ-%00", "REQ-\u0661"])
def test_unknown_request_ids_are_404(api, request_id):
    # A NUL in the path is refused by the request guards (400) before the route looks the id up.
    expected = 400 if "%00" in request_id else 404
    assert move(api, request_id, "delivered").status_code == expected
    assert api.get(f"{URL}/{request_id}").status_code == expected


def test_ids_are_case_insensitive(api):
    request_id = raise_order(api)
    assert api.get(f"{URL}/{request_id.lower()}").json()["id"] == request_id
