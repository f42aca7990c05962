"""Deliveries read through `requests.delivered_at` (portal/metrics/deliveries.py), and the writers that keep it:
hand-made orders whose first deliveries, components and requesters are worked out next to each assertion."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlmodel import Session

from portal.catalog.models import CatalogRelation
from portal.db import build_engine
from portal.metrics.deliveries import delivered_between, first_by_component, first_by_team
from portal.metrics.entities import adopters
from portal.metrics.value_history import value_history
from portal.migrate import upgrade
from portal.requests import service
from portal.requests.models import Request, RequestEvent, component_parameter
from tests.requests.factories import OWNER, REQUESTER, seed_request_catalog, store, user
from tests.test_migrations import command_downgrade

CI = "capability:default/ci-pipeline"
FLAGS = "capability:default/feature-flags"


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def order(session: Session, capability: str, moves: list[tuple[datetime, str]], *, component: str | None = None,
          parameters: dict | None = None, requester: str = REQUESTER) -> Request:
    """An order moved through `moves` by the request service (which keeps delivered_at), first at moves[0]."""
    row = Request(kind="order", title="t", capability_ref=capability, requester_ref=requester,
                  product_ref="platformproduct:default/delivery-platform", stage="submitted", created_at=moves[0][0], updated_at=moves[0][0],
                  component_ref=component, parameters=parameters, component_parameter=component_parameter(parameters))
    session.add(row)
    session.flush()
    session.add(RequestEvent(request_id=row.id, at=moves[0][0], actor=requester, to_stage="submitted", source="user"))
    for moment, stage in moves[1:]:
        service.transition(session, row, to=stage, actor=OWNER, at=moment)
    session.commit()
    return row


def test_the_service_keeps_the_first_delivery_when_an_order_moves_back_and_on(session) -> None:  # noqa: ANN001
    seed_request_catalog(session)
    row = order(session, FLAGS, [(at(1), "submitted"), (at(2), "fulfilling"), (at(3), "delivered"),
                                 (at(4), "fulfilling"), (at(5), "delivered"), (at(6), "in-use")])
    assert row.delivered_at == at(3)
    untouched = order(session, FLAGS, [(at(1), "submitted"), (at(2), "fulfilling")])
    assert untouched.delivered_at is None


def seed_orders(session: Session) -> None:
    """Five orders of CI and one of feature flags, as the comments at each assertion count them."""
    seed_request_catalog(session)
    # web: linked on one order (delivered 3rd), named by a parameter on another delivered earlier (2nd).
    order(session, CI, [(at(1), "submitted"), (at(2, 9), "fulfilling"), (at(3), "delivered")],
          component="component:default/web")
    order(session, CI, [(at(1), "submitted"), (at(2), "delivered")], parameters={"component": " Web "})
    # api: named only by an order that was delivered (5th) and then cancelled: it does not count.
    order(session, CI, [(at(4), "submitted"), (at(5), "delivered"), (at(6), "cancelled")],
          parameters={"component": "api"})
    # A parameter that is not a component ref, and one that is not text: neither names a component.
    order(session, CI, [(at(7), "submitted"), (at(8), "delivered")], parameters={"component": "group:default/x"},
          requester=OWNER)
    order(session, CI, [(at(7), "submitted"), (at(9), "in-use")], parameters={"component": 42}, requester=OWNER)
    # Not delivered yet, though it names a component.
    order(session, FLAGS, [(at(10), "submitted"), (at(11), "fulfilling")], component="component:default/api")


def test_first_delivery_per_component_takes_the_earliest_naming_order(session) -> None:  # noqa: ANN001
    seed_orders(session)
    found = {(capability, component or parameters["component"], moment)
             for capability, component, parameters, moment in first_by_component(session, [CI, FLAGS])}
    # The linked order (3rd) and the parameters of the ones without a link, grouped by their text.
    assert found == {(CI, "component:default/web", at(3)), (CI, " Web ", at(2)), (CI, "group:default/x", at(8))}
    # As adoptions: " Web " is component:default/web, delivered first on the 2nd; the group ref names none.
    assert [(item.component, item.capability, item.at, item.source) for item in adopters(session, [CI, FLAGS])] == [
        ("component:default/web", CI, at(2), "order")]


def test_first_delivery_per_team_and_the_deliveries_of_a_window(session) -> None:  # noqa: ANN001
    seed_orders(session)
    # The requester's (team-apps) CI orders were delivered on the 3rd and 2nd (the 5th was cancelled); the
    # owner's (team-dx) on the 8th and 9th.
    assert first_by_team(session, [CI, FLAGS]) == [(CI, "group:default/team-apps", at(2)),
                                                   (CI, "group:default/team-dx", at(8))]
    # [3rd, 9th): the orders delivered on the 3rd and the 8th; the 9th is the window's end.
    assert [moment for _, moment in delivered_between(session, [CI], at(3), at(9))] == [at(3), at(8)]
    assert [moment for _, moment in delivered_between(session, [CI])] == [at(2), at(3), at(8), at(9)]


def test_value_history_dates_each_team_from_its_members_first_delivery(session) -> None:  # noqa: ANN001
    seed_orders(session)
    history = value_history(session, [CI, FLAGS])
    # rui.requester is in team-apps (first CI delivery on the 2nd); olga.owner in team-dx (on the 8th).
    assert history.team_firsts == [(CI, "group:default/team-apps", at(2)), (CI, "group:default/team-dx", at(8))]
    assert [info.ref for info in history.infos] == [CI, FLAGS]


def test_migration_0035_dates_existing_orders_from_their_events(scratch_database_url) -> None:  # noqa: ANN001
    engine = build_engine(scratch_database_url)
    try:
        upgrade(engine)
        command_downgrade(engine, "0033")
        base = {"kind": "order", "title": "t", "requester_ref": "user:default/a", "flow_item_type": "feature",
                "created_at": at(1), "updated_at": at(1), "vote_count": 0}
        with engine.begin() as connection:
            connection.execute(insert(Request.__table__), [{**base, "id": 1, "stage": "fulfilling"},
                                                           {**base, "id": 2, "stage": "submitted"}])
            connection.execute(insert(RequestEvent.__table__), [
                {"request_id": request_id, "at": moment, "actor": "x", "to_stage": stage, "source": "user",
                 "is_rework": False}
                for request_id, moment, stage in [(1, at(1), "submitted"), (1, at(3), "in-use"),
                                                  (1, at(2), "delivered"), (1, at(4), "fulfilling"),
                                                  (2, at(1), "submitted")]])
        upgrade(engine)
        with Session(engine) as session:
            dated = dict(session.execute(select(Request.id, Request.delivered_at)).all())
        assert dated == {1: at(2), 2: None}
    finally:
        engine.dispose()


def test_first_delivery_per_team_is_each_members_first_as_the_catalog_lists_memberships(session) -> None:  # noqa: ANN001
    """A requester ref in another case than the catalog stores it, a person in two teams, a membership of
    something that is not a group, and a team whose only delivery was then cancelled."""
    seed_request_catalog(session)
    store(session, [user("dana.dual", ["team-apps", "team-sre"])])
    session.add(CatalogRelation(originating_uid="test", source_ref="user:default/dana.dual", type="memberOf",
                                target_ref="component:default/not-a-team"))
    session.commit()
    order(session, CI, [(at(1), "submitted"), (at(6), "delivered")], requester="User:Default/Dana.Dual")
    order(session, CI, [(at(1), "submitted"), (at(4), "delivered")], requester=REQUESTER)
    order(session, FLAGS, [(at(1), "submitted"), (at(2), "delivered"), (at(3), "cancelled")],
          requester="user:default/sami.approver")
    order(session, FLAGS, [(at(1), "submitted"), (at(7), "in-use")], requester="user:default/dana.dual")
    assert first_by_team(session, [CI, FLAGS]) == [
        (CI, "group:default/team-apps", at(4)), (CI, "group:default/team-sre", at(6)),
        (FLAGS, "group:default/team-apps", at(7)), (FLAGS, "group:default/team-sre", at(7))]
    # The same as each delivered order's requester's groups, looked up one by one.
    expected: dict[tuple[str, str], datetime] = {}
    for row, moment in delivered_between(session, [CI, FLAGS]):
        for (target,) in session.execute(select(CatalogRelation.target_ref).where(
                CatalogRelation.source_ref == row.requester_ref.lower(), CatalogRelation.type == "memberOf")):
            if target.startswith("group:"):
                key = (row.capability_ref, target)
                expected[key] = min(moment, expected.get(key, moment))
    assert first_by_team(session, [CI, FLAGS]) == [(*key, moment) for key, moment in sorted(expected.items())]


def test_migration_0038_takes_each_orders_component_parameter_when_it_is_text(scratch_database_url) -> None:  # noqa: ANN001
    engine = build_engine(scratch_database_url)
    try:
        upgrade(engine)
        command_downgrade(engine, "0037")
        base = {"kind": "order", "title": "t", "requester_ref": "user:default/a", "flow_item_type": "feature",
                "created_at": at(1), "updated_at": at(1), "vote_count": 0, "stage": "submitted"}
        named = {1: {"component": " Web "}, 2: {"component": 42}, 3: {"component": "x" * 401}, 4: {"other": "web"},
                 5: None, 6: {"component": "component:default/api", "more": [1, 2]}}
        with engine.begin() as connection:
            connection.execute(insert(Request.__table__), [{**base, "id": key, "parameters": value}
                                                           for key, value in named.items()])
        upgrade(engine)
        with Session(engine) as session:
            found = dict(session.execute(select(Request.id, Request.component_parameter)).all())
        assert found == {1: " Web ", 2: None, 3: None, 4: None, 5: None, 6: "component:default/api"}
        assert found == {key: component_parameter(value) for key, value in named.items()}
    finally:
        engine.dispose()
