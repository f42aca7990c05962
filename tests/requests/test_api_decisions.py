"""POST /api/v1/requests/{id}/decision: only the capability's approvers decide; 401 anonymous in production."""

from __future__ import annotations

from tests.web.csrf_support import holds_nul

from tests.auth.people import production_settings

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.requests.factories import APPROVER, OWNER, REQUESTER

URL = "/api/v1/requests"


def order(client, capability: str = "progressive-delivery") -> str:
    response = client.post(URL, json={"kind": "order", "capability": capability,
                                      "parameters": {"component": "tracking-service"}})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_an_approver_approves_and_the_order_moves_to_fulfilling(client_as):
    request_id = order(client_as(REQUESTER))
    response = client_as(APPROVER).post(f"{URL}/{request_id}/decision", json={"decision": "approve"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stage"] == "fulfilling"
    assert body["events"][-1] | {"at": None} == {"at": None, "actor": APPROVER, "from": "awaiting-approval",
                                                 "to": "fulfilling", "source": "user", "note": "Approved",
                                                 "workTimeSeconds": None, "rework": False}


@pytest.mark.parametrize("person", [OWNER, REQUESTER])
def test_anyone_outside_the_approvers_group_gets_403_naming_it(client_as, person):
    request_id = order(client_as(REQUESTER))
    response = client_as(person).post(f"{URL}/{request_id}/decision", json={"decision": "approve"})
    assert response.status_code == 403
    assert "group:default/team-sre" in response.json()["error"]["message"]
    assert client_as(None).get(f"{URL}/{request_id}").json()["stage"] == "awaiting-approval"


def test_a_rejection_needs_a_reason_and_ends_the_order(client_as):
    request_id = order(client_as(REQUESTER))
    approver = client_as(APPROVER)
    missing = approver.post(f"{URL}/{request_id}/decision", json={"decision": "reject"})
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["path"] == "reason"
    response = approver.post(f"{URL}/{request_id}/decision",
                             json={"decision": "reject", "reason": "Add SLO dashboards first"})
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "rejected" and body["events"][-1]["note"] == "Add SLO dashboards first"
    again = approver.post(f"{URL}/{request_id}/decision", json={"decision": "approve"})
    assert again.status_code == 409


def test_orders_not_awaiting_approval_and_ideas_take_no_decision(api):
    automated = order(api, "feature-flags")
    assert api.post(f"{URL}/{automated}/decision", json={"decision": "approve"}).status_code == 409
    idea = api.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "x"}).json()["id"]
    assert api.post(f"{URL}/{idea}/decision", json={"decision": "approve"}).status_code == 409


def test_a_capability_without_approvers_lets_nobody_signed_in_decide(client_as, session):
    from portal.requests.models import Request

    request_id = order(client_as(REQUESTER), "feature-flags")
    row = session.get(Request, int(request_id.removeprefix("REQ-")))
    row.stage = "awaiting-approval"  # as if the capability had been switched to approval mode since
    session.add(row)
    session.commit()
    response = client_as(OWNER).post(f"{URL}/{request_id}/decision", json={"decision": "approve"})
    assert response.status_code == 403 and "names no fulfillment.approvers" in response.json()["error"]["message"]


def test_anonymous_callers_decide_where_anonymous_changes_are_allowed(api):
    request_id = order(api)
    assert api.post(f"{URL}/{request_id}/decision", json={"decision": "approve"}).json()["stage"] == "fulfilling"


@pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": "approve", "reason": "x" * 2001},
                                  {"decision": "approve", "reason": "\u0000"}, {"decision": "approve", "x": 1}])
def test_bad_decisions_are_422(api, body):
    request_id = order(api)
    assert api.post(f"{URL}/{request_id}/decision", json=body).status_code == (400 if holds_nul(body) else 422)


def test_in_production_anonymous_callers_get_401_even_to_read(settings, catalog, api):
    request_id = order(api)
    production = create_app(production_settings(settings))
    with TestClient(production) as client:
        assert client.post(f"{URL}/{request_id}/decision", json={"decision": "approve"}).status_code == 401
        assert client.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "x"}).status_code == 401
        assert client.post(f"{URL}/{request_id}/transitions", json={"to": "cancelled"}).status_code == 401
        assert client.post(f"{URL}/{request_id}/votes").status_code == 401
        # Production gives anonymous callers the catalog only (issue 10, part 4).
        assert client.get(f"{URL}/{request_id}").status_code == 401
        assert client.get(URL).status_code == 401
