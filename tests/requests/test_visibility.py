"""Who sees which request (FLOWPORT_REQUESTS_VISIBLE_TO=involved, the default): the requester, their
team, the owners and approvers of what it asks for, and admins; the same rule filters lists (and their
counts) and single reads, which answer 404 rather than reveal a request."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER, group, store, user
from tests.web.csrf_support import dev_sign_in

URL = "/api/v1/requests"
STRANGER = "user:default/nina.nobody"  # team-other: nothing to do with any request here
ADMIN = "user:default/ada.admin"


@pytest.fixture
def people(session, catalog):
    store(session, [group("team-other", ["nina.nobody"]), user("nina.nobody", ["team-other"]),
                    group("platform-admins", ["ada.admin"]), user("ada.admin", ["platform-admins"])])


@pytest.fixture
def as_user(settings, people):
    app = create_app(settings.model_copy(update={"env": "development", "admins": ["group:default/platform-admins"]}))
    with ExitStack() as stack:
        def client(user_ref: str) -> TestClient:
            signed_in = stack.enter_context(TestClient(app))
            dev_sign_in(signed_in, user_ref)
            return signed_in
        yield client


def test_a_request_is_seen_by_those_involved_and_nobody_else(as_user):
    requester = as_user(REQUESTER)
    order = requester.post(URL, json={"kind": "order", "capability": "progressive-delivery"})
    assert order.status_code == 201, order.text
    request_id = order.json()["id"]
    seen = {}
    for who in (REQUESTER, OUTSIDER, OWNER, APPROVER, ADMIN, STRANGER):
        client = requester if who == REQUESTER else as_user(who)
        listing = client.get(URL).json()
        seen[who] = ([item["id"] for item in listing["items"]], listing["totalItems"],
                     client.get(f"{URL}/{request_id}").status_code,
                     client.get(f"{URL}/{request_id}/comments").status_code)
    assert seen == {
        REQUESTER: ([request_id], 1, 200, 200),   # raised it
        OUTSIDER: ([request_id], 1, 200, 200),    # same team as the requester
        OWNER: ([request_id], 1, 200, 200),       # their group owns the capability
        APPROVER: ([request_id], 1, 200, 200),    # their group approves it
        ADMIN: ([request_id], 1, 200, 200),
        STRANGER: ([], 0, 404, 404),              # and a read does not reveal that it exists
    }


def test_everyone_setting_shows_all_requests_to_everyone_signed_in(settings, people):
    app = create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "everyone"}))
    with TestClient(app) as requester, TestClient(app) as stranger:
        dev_sign_in(requester, REQUESTER)
        dev_sign_in(stranger, STRANGER)
        request_id = requester.post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "x"}).json()["id"]
        assert [item["id"] for item in stranger.get(URL).json()["items"]] == [request_id]


def _group_with_parent(name: str, members: list[str], parent: str) -> dict:
    entity = group(name, members)
    entity["spec"]["parent"] = parent
    return entity


def test_parent_groups_own_through_their_children_but_do_not_make_one_team(session, catalog, settings):
    """A member of `team-dx-cicd` (a child of team-dx, which owns the capability) may move its orders, as
    an owner; but two people whose only shared group is a parent do not see each other's requests."""
    store(session, [
        _group_with_parent("team-dx-cicd", ["carla.child"], "team-dx"),
        user("carla.child", ["team-dx-cicd"]),
        _group_with_parent("team-apps-mobile", ["mo.mobile"], "team-apps"),
        user("mo.mobile", ["team-apps-mobile"]),
    ])
    app = create_app(settings.model_copy(update={"env": "development"}))
    with TestClient(app) as requester, TestClient(app) as child_owner, TestClient(app) as cousin:
        dev_sign_in(requester, REQUESTER)
        dev_sign_in(child_owner, "user:default/carla.child")
        dev_sign_in(cousin, "user:default/mo.mobile")
        request_id = requester.post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
        assert child_owner.get(f"{URL}/{request_id}").status_code == 200  # owns it through team-dx
        moved = child_owner.post(f"{URL}/{request_id}/transitions", json={"to": "fulfilling"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["stage"] == "fulfilling"
        # mo.mobile's team is team-apps-mobile; team-apps (rui's team) is only its parent.
        assert cousin.get(f"{URL}/{request_id}").status_code == 404
