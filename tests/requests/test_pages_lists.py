"""“My requests” and “Our team's requests”: who sees which rows, filters, cursor paging and the JSON twin."""

from __future__ import annotations

import pytest

from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER
from tests.requests.page_clients import (  # noqa: F401 - fixtures
    HTML,
    JSON,
    STRANGER,
    involved_app,
    page,
    person,
    raise_idea,
    raise_order,
    text_of,
)


def ids_in(client, path: str) -> list[str]:
    return [item["id"] for item in client.get(path, headers=JSON).json()["items"]]


def test_my_requests_lists_only_mine_newest_first(person):
    mine = [raise_order(person(REQUESTER), "feature-flags"), raise_idea(person(REQUESTER))]
    raise_order(person(OUTSIDER), "feature-flags")
    raise_order(person(APPROVER), "feature-flags")
    requester = person(REQUESTER)
    assert ids_in(requester, "/requests/mine") == list(reversed(mine))
    assert ids_in(requester, "/requests") == list(reversed(mine))
    html = page(requester, "/requests/mine")
    assert "2 requests" in text_of(html)
    assert all(f'href="/requests/{public_id}"' in html for public_id in mine)


def test_the_json_twin_is_the_apis_page(person):
    requester = person(REQUESTER)
    raise_order(requester, "feature-flags")
    twin = requester.get("/requests/mine", headers=JSON).json()
    api = requester.get("/api/v1/requests?requester=me").json()
    assert twin == api
    assert 'href="/api/v1/requests?requester=me"' in page(requester, "/requests/mine")


def test_our_teams_requests_include_teammates_but_not_other_teams(person):
    mine = raise_order(person(REQUESTER), "feature-flags")
    teammate = raise_order(person(OUTSIDER), "feature-flags")  # team-apps as well
    raise_order(person(APPROVER), "feature-flags")  # team-sre
    raise_order(person(STRANGER), "feature-flags")  # team-data
    assert sorted(ids_in(person(REQUESTER), "/requests/team")) == sorted([mine, teammate])
    assert ids_in(person(OWNER), "/requests/team") == []


def test_filters_by_kind_and_stage(person):
    requester = person(REQUESTER)
    order = raise_order(requester, "feature-flags")
    idea = raise_idea(requester)
    approval = raise_order(requester)
    assert ids_in(requester, "/requests/mine?kind=idea") == [idea]
    assert sorted(ids_in(requester, "/requests/mine?kind=order")) == sorted([order, approval])
    assert ids_in(requester, "/requests/mine?stage=awaiting-approval") == [approval]
    assert ids_in(requester, "/requests/team?kind=order&stage=submitted") == [order]
    html = page(requester, "/requests/mine?kind=idea")
    assert '<option value="idea" selected>' in html


@pytest.mark.parametrize("query", ["kind=bug", "stage=../../etc", "stage=" + "a" * 101, "kind=%00",
                                   "cursor=not-a-cursor", "limit=0", "limit=99999999999999999999"])
def test_bad_filters_are_readable_400s(person, query):
    response = person(REQUESTER).get(f"/requests/mine?{query}", headers=HTML)
    assert response.status_code == 400, response.text[:300]
    assert "Traceback" not in response.text
    assert person(REQUESTER).get(f"/requests/mine?{query}", headers=JSON).status_code == 400


def test_paging_walks_every_request_once_and_back(person):
    requester = person(REQUESTER)
    raised = [raise_order(requester, "feature-flags") for _ in range(5)]
    seen, path = [], "/requests/mine?limit=2"
    while path:
        body = requester.get(path, headers=JSON).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["pageInfo"].get("nextCursor")
        path = f"/requests/mine?limit=2&cursor={cursor}" if cursor else None
    assert seen == list(reversed(raised))
    html = page(requester, "/requests/mine?limit=2")
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_a_cursor_cannot_show_someone_elses_requests(person):
    raise_order(person(OUTSIDER), "feature-flags")
    raise_order(person(OUTSIDER), "feature-flags")
    outsider = person(OUTSIDER)
    cursor = outsider.get("/requests/mine?limit=1", headers=JSON).json()["pageInfo"]["nextCursor"]
    assert ids_in(person(REQUESTER), f"/requests/mine?limit=1&cursor={cursor}") == []


def test_anonymous_callers_in_production_are_asked_to_sign_in(settings, catalog):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from tests.auth.people import production_settings

    with TestClient(create_app(production_settings(settings))) as client:
        response = client.get("/requests/mine", headers=HTML)
        assert response.status_code == 401 and "Sign in" in response.text
        assert client.get("/queues", headers=HTML).status_code == 401
        assert client.get("/ideas", headers=HTML).status_code == 401
        assert client.get("/requests/REQ-1", headers=HTML).status_code == 401
