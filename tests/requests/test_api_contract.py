"""The requests API in the OpenAPI document, refusals that change nothing, the anonymous requester."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.requests.models import Request, RequestEvent

URL = "/api/v1/requests"


def test_the_openapi_document_describes_every_route(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths[URL]) == {"get", "post"}
    for action in ("decision", "transitions", "value", "votes", "comments"):
        assert "post" in paths[f"{URL}/{{request_id}}/{action}"]
    assert "get" in paths[f"{URL}/{{request_id}}"]


def test_a_refused_move_changes_nothing(api, session):
    request_id = api.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    response = api.post(f"{URL}/{request_id}/transitions", json={"to": "delivered", "workTime": "P9999D"})
    assert response.status_code == 422
    assert session.execute(select(func.count()).select_from(RequestEvent)).scalar_one() == 1
    assert session.execute(select(Request.stage)).scalar_one() == "submitted"


def test_requester_anonymous_lists_what_anonymous_callers_raised(api):
    request_id = api.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    assert [item["id"] for item in api.get(URL, params={"requester": "anonymous"}).json()["items"]] == [request_id]
