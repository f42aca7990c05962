"""GET /api/v1/metrics/value and /api/v1/metrics/impact: what a platform product's capabilities deliver."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Query, Request as HttpRequest
from sqlmodel import Session

from portal.auth.identity import CurrentUser, require
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow.query import as_utc
from portal.metrics import value
from portal.metrics.api_dora import benchmark_from_query
from portal.metrics.deliveries import delivered_between
from portal.metrics.dora_rollup import bring_up_to_date
from portal.metrics.entities import (
    Adoption,
    adopters,
    capabilities_of_product,
    component_links,
    entity_kind,
    parse_entity_ref,
)
from portal.metrics.impact import (
    MAX_COMPONENTS,
    adopters_impact,
    summary,
    summary_caveat,
    window_length_from_query,
)
from portal.metrics.value_history import ValueHistory, value_history
from portal.metrics.window import Window, window_from_query
from portal.requests.visibility import visible_requests

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], dependencies=[require("metrics.value.read")])


def _capability_ref(session: Session, ref: str) -> str:
    key = parse_entity_ref(ref if ":" in ref else f"capability:{ref}", "capability")
    if not key.startswith("capability:"):
        raise CatalogApiError(400, f"capability={ref[:100]!r} must be a capability reference, e.g. "
                                   "capability:default/ci-pipeline")
    entity_kind(session, key)
    return key


def _scope(session: Session, product: str | None, capability: str | None) -> tuple[dict, list[str]]:
    if (product is None) == (capability is None):
        raise CatalogApiError(400, "give exactly one of product= (a platformproduct ref) or capability=")
    if capability is not None:
        key = _capability_ref(session, capability)
        return {"capability": key}, [key]
    key = parse_entity_ref(product if ":" in product else f"platformproduct:{product}", "product")
    if not key.startswith("platformproduct:") or entity_kind(session, key) != "platformproduct":
        raise CatalogApiError(400, f"product={product[:100]!r} is not a platform product")
    return {"product": key}, sorted(capabilities_of_product(session, key))


@dataclass(frozen=True)
class WindowOrders:
    """What a value report reads for its window: the orders first delivered in it (with when), those whose
    value was confirmed in it, and the ids of the confirmed ones the caller may see."""

    delivered: list[tuple]
    confirmed: list
    seen: set[int]

    @classmethod
    def read(cls, session: Session, capabilities: list[str], window: Window, visible) -> WindowOrders:  # noqa: ANN001
        confirmed = value.confirmed_in(session, capabilities, window)
        return cls(delivered_between(session, capabilities, window.start, window.end), confirmed,
                   value.visible_ids(session, confirmed, visible))

    @cached_property
    def _by_capability(self) -> tuple[dict[str, list[tuple]], dict[str, list]]:
        delivered: dict[str, list[tuple]] = defaultdict(list)
        confirmed: dict[str, list] = defaultdict(list)
        for order, at in self.delivered:
            delivered[order.capability_ref].append((order, at))
        for order in self.confirmed:
            confirmed[order.capability_ref].append((order, as_utc(order.value_confirmed_at)))
        return delivered, confirmed

    def within(self, capabilities: Iterable[str], window: Window) -> WindowOrders:
        """The part of these orders that read(…, capabilities, window) would give, for a window inside this one
        (a page's several products and windows each take theirs from one read, per capability)."""
        delivered, confirmed = self._by_capability
        wanted = sorted(set(capabilities))
        chosen = [order for ref in wanted for order, at in confirmed.get(ref, ()) if window.contains(at)]
        return WindowOrders(sorted((pair for ref in wanted for pair in delivered.get(ref, ()) if window.contains(pair[1])),
                                   key=lambda pair: (pair[1], pair[0].id)),
                            chosen, {order.id for order in chosen if order.id in self.seen})


def value_report(session: Session, capabilities: list[str], window: Window, interval: str,
                 visible, history: ValueHistory | None = None,  # noqa: ANN001 - a SQL condition or None
                 orders: WindowOrders | None = None, *, totals_only: bool = False) -> dict:
    """Adoption, time saved, satisfaction and SLA per capability and over all of them (`totals_only`: only
    over all of them, for a page that shows no capability). A page that shows several windows or products
    reads `history` (value_history) and `orders` (WindowOrders) once."""
    history = history or value_history(session, capabilities)
    orders = orders or WindowOrders.read(session, capabilities, window, visible)
    per_order = {info.ref: info.time_saved_seconds for info in history.infos}

    def section(refs: set[str]) -> dict:
        delivered = [(order, at) for order, at in orders.delivered if order.capability_ref in refs]
        rated = [order for order in orders.confirmed if order.capability_ref in refs]
        return {"adoption": value.adoption(history.adoptions_of(refs), history.team_events(refs), history.owners,
                                           window, interval),
                "timeSaved": value.time_saved(delivered, rated, per_order, window),
                "satisfaction": value.satisfaction(rated, orders.seen),
                "sla": value.sla(delivered, window)}

    totals = section({info.ref for info in history.infos})
    if totals_only:
        return {"totals": totals}
    items = [{"ref": info.ref, "title": info.title, "timeSavedPerOrder": info.time_saved_seconds,
              "targetLeadTime": info.target_lead_time_seconds, **section({info.ref})} for info in history.infos]
    return {"capabilities": items, "totals": totals}


@router.get("/value")
def value_realized(
    http: HttpRequest,
    session: SessionDep,
    user: CurrentUser,
    product: str | None = Query(None, max_length=400, description="A platform product: all its capabilities"),
    capability: str | None = Query(None, max_length=400, description="One capability"),
    from_: str | None = Query(None, alias="from", max_length=64, description="Window start (ISO-8601)"),
    until: str | None = Query(None, max_length=64, description="Window end (ISO-8601, exclusive)"),
    interval: str = Query("month", description="Adoption series step: week or month"),
) -> dict:
    """Adoption over time, time saved (credited and confirmed), satisfaction and SLA compliance."""
    if interval not in value.INTERVALS:
        raise CatalogApiError(400, f"interval={interval[:20]!r}: use week or month")
    window = window_from_query(from_, until, default_days=90)
    scope, capabilities = _scope(session, product, capability)
    visible = visible_requests(session, user, http.app.state.settings.requests_visible_to,
                               http.app.state.policy.allow_anonymous_changes)
    return {**scope, **window.iso(), "interval": interval,
            **value_report(session, capabilities, window, interval, visible)}


@router.get("/impact")
def impact(
    session: SessionDep,
    capability: str = Query(..., max_length=400, description="The capability whose adopters are compared"),
    window: str | None = Query(None, max_length=40, description="Length of each side: days (90) or ISO-8601 (P90D)"),
    benchmark: str | None = Query(None, max_length=20, description="2023 (default) or 2021 tier table"),
) -> dict:
    """For each component that adopted the capability, DORA in equal windows before and after adoption."""
    length = window_length_from_query(window)
    chosen = benchmark_from_query(benchmark)
    key = _capability_ref(session, capability)
    return capability_impact(session, key, adopters(session, [key]), length, chosen)


def capability_impact(session: Session, capability: str, adoptions: list[Adoption], length: timedelta,
                      benchmark: str) -> dict:
    """GET /impact's answer for one capability, from its adoptions (entities.adopters)."""
    adoptions = sorted((item for item in adoptions if item.at is not None), key=lambda item: (item.at, item.component))
    links = component_links(session, [item.component for item in adoptions])
    adoptions = [item for item in adoptions if item.component in links]
    now = datetime.now(UTC)
    compared = adoptions[:MAX_COMPONENTS]
    bring_up_to_date(session, {item.component: links[item.component] for item in compared})
    components = adopters_impact(session, compared, length, benchmark, now)
    return {"capability": capability, "windowDays": length.total_seconds() / 86_400, "benchmark": benchmark,
            "components": components, "omittedComponents": max(0, len(adoptions) - MAX_COMPONENTS),
            "summary": summary(components), "caveat": summary_caveat(components)}
