"""Requests follow the flow data: an order's component's first production deployment after delivery
moves it to in-use; an idea follows its issue-tracker item; each move is an ordinary event with
source `plugin` and the tool's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.flow.models import FlowDeployment, FlowWorkItem
from portal.requests.follow_flow import FOLLOWER_ACTOR, follow_flow_round
from portal.requests.models import Request, RequestEvent
from tests.requests.factories import OWNER, REQUESTER, store

URL = "/api/v1/requests"
SLUG = "northwind/orders-api"
STRANGER = "user:default/otto.outsider"  # requester's teammate, but neither requester nor owner


def _component(name: str, slug: str) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "annotations": {"github.com/project-slug": slug}},
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-apps"}}


@pytest.fixture
def components(session, catalog):
    store(session, [_component("orders-api", SLUG), _component("billing", "northwind/billing")])


def _deployment(session, n: int, finished: datetime, tier: str = "production", status: str = "success",
                slug: str = SLUG) -> None:
    session.add(FlowDeployment(id=f"github:deployment-{n}", source="github", link_annotation="github.com/project-slug",
                               link_value=slug, updated_at=finished, environment=tier, tier=tier, status=status,
                               started_at=finished - timedelta(minutes=3), finished_at=finished))
    session.commit()


def _work_item(session, key: str, category: str, status: str, at: datetime) -> None:
    item = session.get(FlowWorkItem, f"jira:{key}") or FlowWorkItem(id=f"jira:{key}", source="jira", key=key,
                                                                     updated_at=at)
    item.status_category, item.status, item.source_updated_at, item.updated_at = category, status, at, at
    session.add(item)
    session.commit()


def _events(session, public_id: str) -> list[tuple]:
    request_id = int(public_id.removeprefix("REQ-"))
    session.expire_all()
    return [(e.from_stage, e.to_stage, e.source, e.actor) for e in session.execute(
        select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.at, RequestEvent.id)
    ).scalars()]


def _delivered_order(client_as, component: str | None = "orders-api") -> str:
    body = {"kind": "order", "capability": "feature-flags", **({"component": component} if component else {})}
    order = client_as(REQUESTER).post(URL, json=body)
    assert order.status_code == 201, order.text
    request_id = order.json()["id"]
    owner = client_as(OWNER)
    for stage in ("fulfilling", "delivered"):
        assert owner.post(f"{URL}/{request_id}/transitions", json={"to": stage}).status_code == 200
    return request_id


def test_the_first_production_deployment_after_delivery_puts_an_order_in_use(client_as, session, components, engine):
    request_id = _delivered_order(client_as)
    now = datetime.now(UTC)
    _deployment(session, 1, now - timedelta(days=2))                   # before delivery: not from this order
    _deployment(session, 2, now + timedelta(minutes=5), tier="staging")  # not production
    _deployment(session, 3, now + timedelta(minutes=7), status="failure")
    _deployment(session, 4, now + timedelta(minutes=9), slug="northwind/billing")  # another component
    assert follow_flow_round(engine).orders_in_use == 0
    _deployment(session, 5, now + timedelta(minutes=20))
    _deployment(session, 6, now + timedelta(minutes=40))
    report = follow_flow_round(engine)
    assert report.orders_in_use == 1
    answer = client_as(REQUESTER).get(f"{URL}/{request_id}").json()
    assert answer["stage"] == "in-use" and answer["component"] == "component:default/orders-api"
    last = answer["events"][-1]
    assert (last["from"], last["to"], last["source"], last["actor"]) == ("delivered", "in-use", "plugin", FOLLOWER_ACTOR)
    # The event carries the deployment's finish time (to the second the API shows), not the pass's time.
    moved_at = datetime.fromisoformat(last["at"].replace("Z", "+00:00"))
    assert abs(moved_at - (now + timedelta(minutes=20))) < timedelta(seconds=1)
    assert "github:deployment-5" in last["note"]
    assert follow_flow_round(engine).moved == 0  # nothing left to do: a second pass changes nothing
    assert len(_events(session, request_id)) == 4


def test_an_order_without_a_component_or_still_fulfilling_is_left_alone(client_as, session, components, engine):
    unlinked = _delivered_order(client_as, component=None)
    fulfilling = client_as(REQUESTER).post(URL, json={"kind": "order", "capability": "feature-flags",
                                                      "component": "orders-api"}).json()["id"]
    _deployment(session, 7, datetime.now(UTC) + timedelta(minutes=1))
    assert follow_flow_round(engine).orders_in_use == 0
    reader = client_as(REQUESTER)
    assert reader.get(f"{URL}/{unlinked}").json()["stage"] == "delivered"
    assert reader.get(f"{URL}/{fulfilling}").json()["stage"] == "submitted"


def test_an_idea_follows_its_tracker_item_forward_and_back_but_never_undoes_adoption(client_as, session, components,
                                                                                      engine):
    idea = client_as(REQUESTER).post(URL, json={"kind": "idea", "product": "delivery-platform", "title": "Faster CI",
                                                "trackerItem": "DX-42"})
    assert idea.status_code == 201, idea.text
    request_id = idea.json()["id"]
    assert idea.json()["trackerItem"] == "DX-42"
    start = datetime.now(UTC)
    _work_item(session, "DX-42", "todo", "To Do", start)
    assert follow_flow_round(engine).ideas_moved == 0  # still to do: the idea stays where people put it
    _work_item(session, "DX-42", "in_progress", "In Progress", start + timedelta(hours=1))
    assert follow_flow_round(engine).ideas_moved == 1
    _work_item(session, "DX-42", "done", "Done", start + timedelta(hours=2))
    follow_flow_round(engine)
    _work_item(session, "DX-42", "todo", "Reopened", start + timedelta(hours=3))
    follow_flow_round(engine)
    assert [(f, t, s) for f, t, s, _ in _events(session, request_id)] == [
        (None, "submitted", "user"), ("submitted", "in-progress", "plugin"), ("in-progress", "released", "plugin"),
        ("released", "planned", "plugin")]
    rework = session.execute(select(RequestEvent.is_rework).where(RequestEvent.to_stage == "planned")).scalar_one()
    assert rework is True
    owner = client_as(OWNER)
    for stage in ("in-progress", "released", "adopted"):
        assert owner.post(f"{URL}/{request_id}/transitions", json={"to": stage}).status_code == 200
    _work_item(session, "DX-42", "todo", "Reopened again", start + timedelta(hours=9))
    assert follow_flow_round(engine).ideas_moved == 0
    assert owner.get(f"{URL}/{request_id}").json()["stage"] == "adopted"


def test_links_are_set_by_the_requester_or_owners_and_checked(client_as, components):
    order = client_as(REQUESTER).post(URL, json={"kind": "order", "capability": "feature-flags"}).json()["id"]
    links = f"{URL}/{order}/links"
    assert client_as(REQUESTER).put(links, json={"component": "component:default/orders-api"}).json()["component"] \
        == "component:default/orders-api"
    assert client_as(OWNER).put(links, json={"trackerItem": "DX-1"}).json()["trackerItem"] == "DX-1"
    both = client_as(OWNER).get(f"{URL}/{order}").json()
    assert (both["component"], both["trackerItem"]) == ("component:default/orders-api", "DX-1")  # one field at a time
    refused = client_as(STRANGER).put(links, json={"component": None})
    assert refused.status_code == 403 and "requester or the owners" in refused.json()["error"]["message"]
    unknown = client_as(REQUESTER).put(links, json={"component": "no-such-service"})
    assert unknown.status_code == 422 and "no component component:default/no-such-service" in unknown.text
    wrong_kind = client_as(REQUESTER).put(links, json={"component": "group:default/team-dx"})
    assert wrong_kind.status_code == 422
    assert client_as(REQUESTER).put(links, json={"trackerItem": "a\u0000b"}).status_code == 400
    assert client_as(REQUESTER).put(links, json={"trackerItem": "x" * 401}).status_code in (400, 422)
    assert client_as(REQUESTER).put(links, json={"component": None}).json()["component"] is None


def test_one_request_that_cannot_follow_does_not_stop_the_others(client_as, session, components, engine):
    broken = _delivered_order(client_as)
    good = _delivered_order(client_as, component="billing")
    # The first order's component left the catalog: it has no links to follow any more.
    row = session.get(Request, int(broken.removeprefix("REQ-")))
    row.component_ref = "component:default/gone"
    session.add(row)
    session.commit()
    _deployment(session, 8, datetime.now(UTC) + timedelta(minutes=2), slug="northwind/billing")
    assert follow_flow_round(engine).orders_in_use == 1
    assert client_as(REQUESTER).get(f"{URL}/{good}").json()["stage"] == "in-use"
