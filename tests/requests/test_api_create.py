"""POST /api/v1/requests: orders checked against the capability's inputs, ideas, and hostile bodies."""

from __future__ import annotations

from tests.web.csrf_support import assert_refused_for_nul

import json

import pytest
from sqlalchemy import func, select

from portal.requests.models import Request, RequestEvent
from tests.requests.factories import REQUESTER

URL = "/api/v1/requests"
CI_ORDER = {"kind": "order", "capability": "ci-pipeline",
            "parameters": {"repository": "northwind/shipments", "language": "python"},
            "valueHypothesis": "Stop hand-writing workflows"}


def test_an_order_answers_201_with_the_contract_shape(api):
    response = api.post(URL, json=CI_ORDER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("REQ-") and body["kind"] == "order"
    assert body["capability"] == "capability:default/ci-pipeline"
    assert body["product"] == "platformproduct:default/delivery-platform"
    assert body["title"] == "Ci pipeline"
    assert body["requester"] == "anonymous" and body["stage"] == "submitted"
    assert body["targetLeadTime"] == "PT30M" and body["breached"] is False and body["taskId"] is None
    assert body["parameters"] == CI_ORDER["parameters"] and body["valueHypothesis"] == "Stop hand-writing workflows"
    assert body["votes"] == 0 and body["createdAt"].endswith("Z") and body["updatedAt"] == body["createdAt"]
    assert [(e["from"], e["to"], e["source"], e["actor"]) for e in body["events"]] == [
        (None, "submitted", "user", "anonymous")]
    assert set(body["events"][0]) >= {"at", "actor", "from", "to", "source", "note"}
    assert api.get(f"{URL}/{body['id']}").json() == body


@pytest.mark.parametrize(("capability", "stage"), [
    ("progressive-delivery", "awaiting-approval"), ("feature-flags", "submitted"), ("new-python-service", "submitted"),
    ("capability:default/feature-flags", "submitted"),
])
def test_the_first_stage_follows_the_fulfillment_mode(api, capability, stage):
    response = api.post(URL, json={"kind": "order", "capability": capability})
    assert response.status_code == 201, response.text
    assert response.json()["stage"] == stage


def test_a_signed_in_requester_is_recorded(client_as):
    body = client_as(REQUESTER).post(URL, json={"kind": "idea", "product": "delivery-platform",
                                                "title": "Dependabot for Go"}).json()
    assert body["requester"] == REQUESTER and body["events"][0]["actor"] == REQUESTER


def test_an_idea_answers_201(api):
    hypothesis = {"text": "Teams adopt previews faster", "metric": "lead time for changes", "target": "-20 %"}
    response = api.post(URL, json={"kind": "idea", "product": "platformproduct:default/delivery-platform",
                                   "title": " Preview databases ", "description": "Seeded per PR",
                                   "valueHypothesis": hypothesis, "flowItemType": "debt"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "idea" and "capability" not in body
    assert body["product"] == "platformproduct:default/delivery-platform"
    assert body["title"] == "Preview databases" and body["stage"] == "submitted"
    assert body["valueHypothesis"] == hypothesis and body["flowItemType"] == "debt"
    assert body["targetLeadTime"] is None and body["breached"] is False


def test_parameters_are_checked_against_the_inputs_schema_with_every_error(api, session):
    response = api.post(URL, json={**CI_ORDER, "parameters": {
        "repository": "elsewhere/x", "coverageThreshold": 101, "environments": ["staging", "moon"]}})
    assert response.status_code == 422
    details = {d["path"]: d["message"] for d in response.json()["error"]["details"]}
    assert set(details) == {"parameters.repository", "parameters.language", "parameters.coverageThreshold",
                            "parameters.environments[1]"}
    assert "required" in details["parameters.language"]
    assert session.execute(select(func.count()).select_from(Request)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(RequestEvent)).scalar_one() == 0


def test_a_capability_without_inputs_takes_any_object(api):
    response = api.post(URL, json={"kind": "order", "capability": "feature-flags", "parameters": {"a": [1, 2]}})
    assert response.status_code == 201


@pytest.mark.parametrize(("body", "path"), [
    ({"kind": "order", "capability": "no-such-thing"}, "capability"),
    ({"kind": "order", "capability": "component:default/ci-pipeline"}, "capability"),
    ({"kind": "order", "capability": "broken-inputs"}, "capability"),
    ({"kind": "idea", "product": "no-such-product", "title": "x"}, "product"),
    ({"kind": "idea", "product": "delivery-platform", "title": "   "}, "title"),
    ({"kind": "idea", "product": "delivery-platform"}, "title"),
    ({"kind": "idea", "product": "delivery-platform", "title": "x" * 201}, "title"),
    ({"kind": "idea", "product": "delivery-platform", "title": "x", "surprise": 1}, "surprise"),
    ({"kind": "order", "capability": "feature-flags", "parameters": [1]}, "parameters"),
    ({"kind": "order", "capability": "feature-flags", "flowItemType": "epic"}, "flowItemType"),
    ({"kind": "wish", "product": "delivery-platform"}, "kind"),
])
def test_bad_bodies_are_422_naming_the_field(api, body, path):
    response = api.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert path in [detail["path"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize("body", [
    {"kind": "idea", "product": "delivery-platform", "title": "nul \u0000 here"},
    {"kind": "idea", "product": "delivery-platform", "title": "x", "description": "\u0000"},
    {"kind": "order", "capability": "feature-flags", "parameters": {"a": {"b": "\u0000"}}},
    {"kind": "order", "capability": "feature-flags", "parameters": {"k\u0000": 1}},
    {"kind": "order", "capability": "feature-\u0000flags"},
    {"kind": "idea", "product": "delivery-platform", "title": "x", "valueHypothesis": {"text": "\u0000"}},
])
def test_nul_characters_are_refused_not_stored(api, session, body):
    assert_refused_for_nul(api.post(URL, json=body))
    assert session.execute(select(func.count()).select_from(Request)).scalar_one() == 0


def test_lone_surrogates_and_nan_are_refused(api):
    lone = '{"kind": "idea", "product": "delivery-platform", "title": "\\ud800"}'
    assert api.post(URL, content=lone, headers={"content-type": "application/json"}).status_code == 422
    nan = '{"kind": "order", "capability": "feature-flags", "parameters": {"x": NaN}}'
    response = api.post(URL, content=nan, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "parameters.x"


def test_parameters_are_bounded_in_size_and_depth(api):
    big = {"kind": "order", "capability": "feature-flags", "parameters": {"blob": "x" * (65 * 1024)}}
    response = api.post(URL, json=big)
    assert response.status_code == 422 and "65,5" in response.json()["error"]["message"] + str(response.json())
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["n"] = {}
        node = node["n"]
    response = api.post(URL, json={"kind": "order", "capability": "feature-flags", "parameters": deep})
    assert response.status_code == 422
    assert "nested" in response.json()["error"]["details"][0]["message"]


def test_malformed_oversized_and_absurdly_nested_bodies_are_400_or_413(api):
    headers = {"content-type": "application/json"}
    assert api.post(URL, content="{not json", headers=headers).status_code == 400
    # Refused for its nesting by the request guards before its size counts.
    assert api.post(URL, content="[" * 200_000 + "]" * 200_000, headers=headers).status_code in (400, 413)
    assert api.post(URL, content="[" * 100_000 + "]" * 100_000, headers=headers).status_code in (400, 422)
    huge = json.dumps({"kind": "idea", "product": "delivery-platform", "title": "x", "description": "y" * 300_000})
    assert api.post(URL, content=huge, headers=headers).status_code == 413
    assert api.post(URL, content=b"", headers=headers).status_code == 422
