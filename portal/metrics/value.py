"""Value realized per capability: adoption over time, time saved, satisfaction and SLA compliance.

Read from the catalog (capabilities, usesCapability relations, owners, memberships) and from requests
(delivered orders, confirmed value). docs/metrics.md "Value realized" has every formula.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogRelation
from portal.flow.query import as_utc, iso
from portal.metrics.entities import Adoption
from portal.metrics.stats import mean, median
from portal.metrics.window import Window
from portal.requests.durations import duration_seconds_or_none
from portal.requests.models import PUBLIC_ID_PREFIX, Request

INTERVALS = ("week", "month")
MAX_PERIODS = 160
MAX_COMMENTS = 50
# An NPS-style split of the 1-5 value rating: 5 promotes, 4 is passive, 1-3 detract.
PROMOTER, PASSIVE = 5, 4


@dataclass(frozen=True)
class CapabilityInfo:
    ref: str
    title: str
    time_saved_seconds: int | None
    target_lead_time_seconds: int | None


def capability_info(session: Session, refs: Iterable[str]) -> list[CapabilityInfo]:
    """Title, timeSaved and targetLeadTime of each capability in the catalog, by ref."""
    rows = session.execute(
        select(CatalogEntity.entity_ref, CatalogEntity.body).where(CatalogEntity.entity_ref.in_(sorted(set(refs))))
    ).all()
    found = []
    for ref, body in sorted(rows):
        entity = json.loads(body)
        spec = entity.get("spec") or {}
        found.append(CapabilityInfo(ref, (entity.get("metadata") or {}).get("title") or ref.split("/")[-1],
                                    duration_seconds_or_none(spec.get("timeSaved")),
                                    duration_seconds_or_none(spec.get("targetLeadTime"))))
    return found


def periods(window: Window, interval: str) -> list[Window]:
    """Consecutive weeks from the window's start, or calendar months (UTC), clipped to the window."""
    found, start = [], window.start
    while start < window.end and len(found) < MAX_PERIODS:
        if interval == "week":
            end = start + timedelta(days=7)
        else:
            first = start.astimezone(UTC)
            end = datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=UTC)
        found.append(Window(start, min(end, window.end)))
        start = found[-1].end
    return found


def owners_of(session: Session, components: Iterable[str]) -> dict[str, set[str]]:
    """The groups owning each component (`ownedBy`)."""
    return _related(session, components, "ownedBy")


def _related(session: Session, sources: Iterable[str], relation: str) -> dict[str, set[str]]:
    sources = sorted({source.lower() for source in sources})
    found: dict[str, set[str]] = defaultdict(set)
    if sources:
        for source, target in session.execute(
            select(CatalogRelation.source_ref, CatalogRelation.target_ref)
            .where(CatalogRelation.source_ref.in_(sources), CatalogRelation.type == relation)
        ).all():
            if target.startswith("group:"):
                found[source].add(target)
    return found


def adoption(adoptions: Sequence[Adoption], team_events: Sequence[tuple[datetime, str]],
             owners: dict[str, set[str]], window: Window, interval: str) -> dict:
    """How many components and teams use the capability at the end of each period (counted once, from
    when they first did): a component's teams are its owners; an order also brings its requester's teams."""
    dated_teams = list(team_events) + [(item.at, team) for item in adoptions if item.at
                                       for team in owners.get(item.component, ())]
    series = []
    for period in periods(window, interval):
        components = {item.component for item in adoptions if item.at and item.at < period.end}
        teams = {team for at, team in dated_teams if at < period.end}
        series.append({**period.iso(), "components": len(components), "teams": len(teams)})
    components = {item.component for item in adoptions if item.at and item.at < window.end}
    teams = {team for at, team in dated_teams if at < window.end}
    return {"components": len(components), "teams": len(teams), "componentRefs": sorted(components),
            "teamRefs": sorted(teams), "series": series}


def time_saved(delivered: Sequence[tuple[Request, datetime]], confirmed: Sequence[Request],
               per_order: dict[str, int | None], window: Window) -> dict:
    """Credited: the capability's timeSaved for each order delivered in the window; confirmed: what the
    requesters said they saved, for value confirmed in the window. Seconds."""
    in_window = [order for order, at in delivered if window.contains(at)]
    credited = sum(per_order.get(order.capability_ref) or 0 for order in in_window)
    said = [order.value_time_saved_seconds for order in confirmed if order.value_time_saved_seconds is not None]
    return {"unit": "seconds", "credited": credited, "deliveredOrders": len(in_window),
            "confirmed": sum(said), "confirmedOrders": len(said)}


def satisfaction(confirmed: Sequence[Request], visible_ids: set[int]) -> dict:
    """Average rating, the promoter/passive/detractor split and the comments the caller may read."""
    ratings = [order.value_rating for order in confirmed if order.value_rating is not None]
    promoters = sum(1 for rating in ratings if rating >= PROMOTER)
    passives = sum(1 for rating in ratings if rating == PASSIVE)
    detractors = len(ratings) - promoters - passives
    comments = [{"request": f"{PUBLIC_ID_PREFIX}{order.id}", "rating": order.value_rating,
                 "comment": order.value_comment, "confirmedAt": iso(order.value_confirmed_at)}
                for order in sorted(confirmed, key=lambda order: (as_utc(order.value_confirmed_at), order.id),
                                    reverse=True)
                if order.value_comment and order.value_comment.strip() and order.id in visible_ids]
    return {"ratings": len(ratings), "averageRating": mean(ratings), "promoters": promoters, "passives": passives,
            "detractors": detractors,
            "npsScore": round((promoters - detractors) * 100 / len(ratings), 1) if ratings else None,
            "comments": comments[:MAX_COMMENTS]}


def sla(delivered: Sequence[tuple[Request, datetime]], window: Window) -> dict:
    """Share of the orders delivered in the window whose lead time (created → lead time end) was within
    the target the order carried; orders without a target are counted apart."""
    lead_times, within, without_target = [], 0, 0
    for order, delivered_at in delivered:
        if not window.contains(delivered_at):
            continue
        if order.target_lead_time_seconds is None:
            without_target += 1
            continue
        end = as_utc(order.lead_time_ended_at) or delivered_at
        seconds = (end - as_utc(order.created_at)).total_seconds()
        lead_times.append(seconds)
        within += seconds <= order.target_lead_time_seconds
    return {"orders": len(lead_times), "withinTarget": within,
            "compliance": within / len(lead_times) if lead_times else None,
            "medianLeadTime": median(lead_times), "unit": "seconds", "ordersWithoutTarget": without_target}


# What the value metrics read of an order whose value was confirmed (time_saved, satisfaction).
CONFIRMED_COLUMNS = (Request.id, Request.capability_ref, Request.value_rating, Request.value_time_saved_seconds,
                     Request.value_comment, Request.value_confirmed_at)


def confirmed_in(session: Session, capabilities: Sequence[str], window: Window) -> list:
    """Orders of the capabilities whose value was confirmed in the window (rows of CONFIRMED_COLUMNS)."""
    if not capabilities:
        return []
    return list(session.execute(
        select(*CONFIRMED_COLUMNS).where(Request.kind == "order", Request.capability_ref.in_(list(capabilities)),
                                         Request.value_confirmed_at >= window.start,
                                         Request.value_confirmed_at < window.end)).all())


def visible_ids(session: Session, orders: Sequence[Request], visible: ColumnElement | None) -> set[int]:
    """Which of the orders the caller may see, decided by the requests' own visibility condition."""
    ids = [order.id for order in orders]
    if visible is None or not ids:
        return set(ids)
    return set(session.execute(select(Request.id).where(Request.id.in_(ids), visible)).scalars())
