"""Delivered orders, read through `requests.delivered_at` (the first arrival at a delivered stage).

A delivered order is an order of the capabilities that reached a delivered stage and did not end
undelivered. The value metrics need, whatever their window, each component's and each requester's
first delivered order per capability (adoption), and the orders delivered inside the window (time
saved, SLA): the first two are aggregated in SQL and the last is a range of
`ix_requests_capability_delivered`, so none of them reads every order's timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import case, func, null, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.catalog.models import CatalogRelation
from portal.flow.query import as_utc
from portal.requests.models import Request

# These end an order without delivery: an order delivered and then cancelled does not count.
UNDELIVERED_ENDS = ("failed", "cancelled", "rejected")
# What the value metrics read of an order delivered in their window (value.time_saved and value.sla): a row,
# not the whole request.
ORDER_COLUMNS = (Request.id, Request.capability_ref, Request.requester_ref, Request.component_ref, Request.created_at,
                 Request.lead_time_ended_at, Request.target_lead_time_seconds)


# "Delivered at all" as a range closed at both ends rather than IS NOT NULL: with sampled statistics
# SQLite then takes the covering ix_requests_delivered instead of another index on the capability that
# visits every row (a range open at one end was not always enough).
EVER, NEVER = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)


def delivered(capabilities: Iterable[str], start: datetime = EVER, end: datetime = NEVER) -> ColumnElement:
    """The condition on `Request` of the capabilities' orders first delivered in [start, end) (ever by
    default). One range only: given two lower bounds, SQLite seeks by one of them (it took EVER) and
    filters the rest, reading a year of deliveries for a month's."""
    return (Request.kind == "order") & Request.capability_ref.in_(sorted(set(capabilities))) \
        & Request.stage.not_in(UNDELIVERED_ENDS) & (Request.delivered_at >= start) & (Request.delivered_at < end)


def delivered_between(session: Session, capabilities: Iterable[str], start: datetime | None = None,
                      end: datetime | None = None) -> list[tuple]:
    """(order row, delivered at) of the orders first delivered in [start, end) (all when open), oldest first."""
    capabilities = list(capabilities)
    if not capabilities:
        return []
    statement = select(*ORDER_COLUMNS, Request.delivered_at).where(delivered(capabilities, start or EVER, end or NEVER))
    rows = session.execute(statement.order_by(Request.delivered_at, Request.id)).all()
    return [(row, as_utc(row.delivered_at)) for row in rows]


def first_by_component(session: Session, capabilities: Iterable[str]) -> list[tuple[str, str | None, dict | None,
                                                                                     datetime]]:
    """(capability, component_ref, parameters, first delivered at) per component that delivered orders
    name: through their link (`component_ref`), or, for orders without one, through a `component`
    parameter, given here as `{"component": value}` for `entities.named_component` to check. Grouped in
    SQL in one pass over the deliveries index (which carries the `component` parameter as the request
    writers keep it, `requests.component_parameter`), so the answer has a row per component, not per order
    and no order's parameters are parsed."""
    capabilities = list(capabilities)
    if not capabilities:
        return []
    named = case((Request.component_ref.is_(None), Request.component_parameter), else_=null()).label("named")
    rows = session.execute(
        select(Request.capability_ref, Request.component_ref, named, func.min(Request.delivered_at))
        .where(delivered(capabilities)).group_by(Request.capability_ref, Request.component_ref, named)).all()
    return [(capability, component, None if component or parameter is None else {"component": parameter}, as_utc(at))
            for capability, component, parameter, at in rows if component is not None or parameter is not None]


def first_by_team(session: Session, capabilities: Iterable[str]) -> list[tuple[str, str, datetime]]:
    """(capability, group ref, first delivered at) per group with a member (`memberOf`, the requester's ref
    lower-cased as relations store it) who had an order of the capability delivered, by capability and
    group. Grouped in SQL per requester first, then per group through each membership once (relations are
    stored from both ends), so neither the database nor Python handles a row per order and group."""
    capabilities = list(capabilities)
    if not capabilities:
        return []
    person = func.lower(Request.requester_ref)
    firsts = select(Request.capability_ref, person.label("person"), func.min(Request.delivered_at).label("at")) \
        .where(delivered(capabilities)).group_by(Request.capability_ref, person).subquery()
    teams = select(CatalogRelation.source_ref, CatalogRelation.target_ref).distinct() \
        .where(CatalogRelation.type == "memberOf", func.substr(CatalogRelation.target_ref, 1, 6) == "group:").subquery()
    rows = session.execute(
        select(firsts.c.capability_ref, teams.c.target_ref, func.min(firsts.c.at))
        .join(teams, teams.c.source_ref == firsts.c.person)
        .group_by(firsts.c.capability_ref, teams.c.target_ref)
        .order_by(firsts.c.capability_ref, teams.c.target_ref)).all()
    return [(capability, group, as_utc(at)) for capability, group, at in rows]
