"""GET /api/v1/requests: filters, `requester=me`, paging across pages both ways, and bad queries."""

from __future__ import annotations

import base64
import json

import pytest

from tests.requests.factories import OWNER, REQUESTER

URL = "/api/v1/requests"


def raise_orders(client, count: int, capability: str = "feature-flags") -> list[str]:
    return [client.post(URL, json={"kind": "order", "capability": capability}).json()["id"] for _ in range(count)]


def test_pages_walk_every_request_once_newest_first_and_back(api):
    created = raise_orders(api, 7)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(URL, params=params).json()
        assert page["totalItems"] == 7
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["pageInfo"].get("nextCursor")
        if not cursor:
            break
    assert pages == 3 and seen == list(reversed(created))
    last = api.get(URL, params={"limit": 3, "cursor": page_cursor(api, 3, steps=2)}).json()
    back = api.get(URL, params={"limit": 3, "cursor": last["pageInfo"]["prevCursor"]}).json()
    assert [item["id"] for item in back["items"]] == seen[3:6]
    assert "prevCursor" in back["pageInfo"] and "nextCursor" in back["pageInfo"]
    first = api.get(URL, params={"limit": 3}).json()
    assert "prevCursor" not in first["pageInfo"]


def page_cursor(api, limit: int, steps: int) -> str:
    cursor = None
    for _ in range(steps):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        cursor = api.get(URL, params=params).json()["pageInfo"]["nextCursor"]
    return cursor


def test_a_moved_request_comes_first(api):
    older, newer = raise_orders(api, 2)
    api.post(f"{URL}/{older}/transitions", json={"to": "fulfilling"})
    assert [item["id"] for item in api.get(URL).json()["items"]] == [older, newer]


def test_filters_select_by_kind_capability_product_stage_and_requester(client_as):
    requester, owner = client_as(REQUESTER), client_as(OWNER)
    flags = raise_orders(requester, 2)
    rollout = raise_orders(owner, 1, "progressive-delivery")
    idea = requester.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "x"}).json()["id"]
    runtime_idea = owner.post(URL, json={"kind": "idea", "product": "runtime-platform", "title": "y"}).json()["id"]

    def ids(client=requester, **params) -> set[str]:
        return {item["id"] for item in client.get(URL, params=params).json()["items"]}

    assert ids(kind="idea") == {idea, runtime_idea}
    assert ids(capability="feature-flags") == set(flags)
    assert ids(capability="capability:default/progressive-delivery") == set(rollout)
    assert ids(product="delivery-platform") == {*flags, *rollout, idea}
    assert ids(stage="awaiting-approval") == set(rollout)
    assert ids(product="delivery-platform", stage="submitted", kind="order") == set(flags)
    assert ids(requester="me") == {*flags, idea}
    assert ids(owner, requester="me") == {*rollout, runtime_idea}
    assert ids(requester=REQUESTER) == ids(requester="rui.requester") == {*flags, idea}
    assert ids(client_as(None), requester="me") == set()
    assert ids(capability="no-such-capability") == set()


def test_a_cursor_keeps_the_filters_of_its_first_page(api):
    flags = raise_orders(api, 3)
    raise_orders(api, 3, "new-python-service")
    first = api.get(URL, params={"capability": "feature-flags", "limit": 2}).json()
    rest = api.get(URL, params={"limit": 2, "cursor": first["pageInfo"]["nextCursor"], "kind": "idea"}).json()
    assert [item["id"] for item in rest["items"]] == flags[:1] and rest["totalItems"] == 3


def _token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


FILTERS = {"kind": None, "capability": None, "product": None, "requester": None, "stage": None}


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 501}, {"limit": 10**30}, {"limit": "ten"}, {"kind": "wish"},
    {"cursor": "not-a-cursor"}, {"cursor": "%%%"}, {"cursor": _token({"v": 2})},
    {"cursor": _token({"v": 1, "f": FILTERS, "p": ["yesterday", 1], "b": False})},
    {"cursor": _token({"v": 1, "f": FILTERS, "p": ["2026-01-01T00:00:00+00:00", "1"], "b": False})},
    {"cursor": _token({"v": 1, "f": {"kind": 5}, "p": ["2026-01-01T00:00:00+00:00", 1], "b": False})},
    {"cursor": _token([1, 2])}, {"cursor": "x" * 5000},
    {"stage": "Not A Stage"}, {"stage": "nul\u0000"}, {"capability": "a\u0000b"}, {"requester": "a/b/c"},
    {"product": "component:default/x"}, {"capability": "x" * 401},
])
def test_bad_queries_are_400(api, params):
    response = api.get(URL, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]


def test_listed_items_carry_their_timelines(api):
    request_id = raise_orders(api, 1)[0]
    api.post(f"{URL}/{request_id}/transitions", json={"to": "fulfilling"})
    item = api.get(URL).json()["items"][0]
    assert [event["to"] for event in item["events"]] == ["submitted", "fulfilling"]
    assert item == api.get(f"{URL}/{request_id}").json() | {"breached": item["breached"]}
