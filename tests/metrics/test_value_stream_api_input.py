"""Hostile and wrong query strings for the value stream API: each a clear 4xx naming the problem."""

from __future__ import annotations

import pytest

from tests.requests.factories import seed_request_catalog

URL = "/api/v1/metrics/value-stream"


@pytest.fixture
def api(client, session):
    seed_request_catalog(session)
    return client


@pytest.mark.parametrize(("params", "status", "says"), [
    ({}, 400, "exactly one of product, capability"),
    ({"product": "delivery-platform", "capability": "ci-pipeline"}, 400, "exactly one"),
    ({"product": "  "}, 400, "exactly one"),
    ({"capability": "no-such-capability"}, 404, "no capability capability:default/no-such-capability"),
    ({"product": "ci-pipeline"}, 404, "no platform product"),
    ({"capability": "component:default/ci-pipeline"}, 400, "a capability ref is needed"),
    ({"capability": "../../etc/passwd"}, 400, "capability="),
    ({"capability": "ci-pipeline\tx"}, 400, "control characters"),
    ({"capability": "x" * 401}, 400, "at most 400 characters"),
    ({"capability": "ci-pipeline", "kind": "idea"}, 400, "not ideas"),
    ({"capability": "ci-pipeline", "kind": "epic"}, 400, "query.kind"),
    ({"capability": "ci-pipeline", "from": "2026-05-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}, 400, "before"),
    ({"capability": "ci-pipeline", "from": "yesterday"}, 400, "not a time"),
    ({"capability": "ci-pipeline", "from": "99999999999-01-01"}, 400, "not a time"),
    ({"capability": "ci-pipeline", "from": "1900-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400, "at most"),
    ({"capability": "ci-pipeline", "until": "0001-01-05T00:00:00Z"}, 400, "between 1970-01-01 and 9000-01-01"),
    ({"capability": "ci-pipeline", "from": "9999-12-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"}, 400, "between"),
    ({"capability": "ci-pipeline", "from": "1969-12-01T00:00:00Z", "until": "1970-01-02T00:00:00Z"}, 400, "between"),
])
def test_bad_queries_are_4xx_with_a_reason(api, params, status, says):
    response = api.get(URL, params=params)
    assert response.status_code == status, response.text
    assert says in response.text


def test_nul_in_the_query_is_refused_before_the_route(api):
    response = api.get(URL + "?capability=ci%00pipeline")
    assert response.status_code == 400


def test_production_needs_a_signed_in_caller_and_any_signed_in_caller_reads_aggregates(settings, session):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from tests.auth.people import production_settings, sign_in

    seed_request_catalog(session)
    production = production_settings(settings)
    with TestClient(create_app(production)) as client:
        assert client.get(URL, params={"capability": "ci-pipeline"}).status_code == 401
        # Someone who is neither requester nor owner: the map holds no request of anyone's, only aggregates.
        sign_in(client, production, "user:default/otto.outsider")
        response = client.get(URL, params={"capability": "ci-pipeline"})
    assert response.status_code == 200, response.text
