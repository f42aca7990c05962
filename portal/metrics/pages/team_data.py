"""What the team page shows: DORA of the group's components (its child groups' included) as a whole and
per component, the capabilities those components use, and the open requests of the group's members."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogRelation
from portal.flow.query import Link
from portal.metrics.api_dora import dora_of_components
from portal.metrics.dora_rollup import bring_up_to_date
from portal.metrics.entities import DELIVERED_STAGES, UNDELIVERED_ENDS, adopters, groups_below, resolve_scope
from portal.metrics.page_window import PageWindow
from portal.metrics.pages.component_data import deployments_per_week
from portal.metrics.tiers import DEFAULT_BENCHMARK
from portal.metrics.window import Window
from portal.requests.listing import RequestFilters, RequestQuery, list_requests
from portal.requests.models import Request

# Per-component DORA reads each component's records once more: beyond this many the table stops.
MAX_COMPONENT_ROWS = 40
OPEN_REQUESTS_SHOWN = 20
# Stages after which a request is no longer open (delivered or ended without delivery).
CLOSED_STAGES = (*DELIVERED_STAGES, *UNDELIVERED_ENDS)


def dora_per_component(session: Session, components: dict[str, Sequence[Link]], window: Window,
                       benchmark: str) -> list[dict]:
    """Each component's own DORA (the first MAX_COMPONENT_ROWS by ref), for the team's table."""
    shown = dict(sorted(components.items())[:MAX_COMPONENT_ROWS])
    bring_up_to_date(session, shown)
    return [{"component": ref, **dora_of_components(session, {ref: links}, window, benchmark, up_to_date=True)}
            for ref, links in shown.items()]


def capabilities_used(session: Session, components: Sequence[str]) -> list[dict]:
    """The capabilities the components use, declared (usesCapability) or through a delivered order,
    with the components that use each and since when (entities.adopters dates them)."""
    wanted = set(components)
    if not wanted:
        return []
    capabilities = session.execute(
        select(CatalogEntity.entity_ref).where(CatalogEntity.entity_ref.like("capability:%"))).scalars().all()
    used: dict[str, list[dict]] = {}
    for adoption in adopters(session, capabilities):
        if adoption.component in wanted:
            used.setdefault(adoption.capability, []).append(
                {"component": adoption.component, "since": adoption.at, "source": adoption.source})
    return [{"capability": ref, "components": sorted(items, key=lambda item: item["component"])}
            for ref, items in sorted(used.items())]


def members_of(session: Session, groups: set[str]) -> list[str]:
    return sorted({ref.lower() for ref in session.execute(
        select(CatalogRelation.source_ref).where(CatalogRelation.type == "memberOf",
                                                 CatalogRelation.target_ref.in_(sorted(groups)))).scalars()})


def open_requests(session: Session, group: str, visible: ColumnElement | None) -> dict:
    """Open requests raised by the members of the group (and its child groups), newest first, only
    those the caller may see (`visible`, the requests API's condition), counted the same way."""
    members = members_of(session, groups_below(session, group))
    condition = and_(Request.requester_ref.in_(members), Request.stage.not_in(CLOSED_STAGES),
                     *([visible] if visible is not None else []))
    page = list_requests(session, RequestQuery(RequestFilters(), OPEN_REQUESTS_SHOWN), condition, with_events=False)
    items = [{key: item.get(key) for key in ("id", "kind", "title", "stage", "requester", "capability",
                                            "createdAt", "updatedAt", "breached")} for item in page.items]
    return {"items": items, "totalItems": page.total_items}


def team_metrics(session: Session, ref: str, picked: PageWindow, visible: ColumnElement | None) -> dict:
    """Everything the team page shows, as plain data (the JSON twin is this, encoded)."""
    components = resolve_scope(session, ref).components  # the group's and its child groups' components
    current = dora_of_components(session, components, picked.window, DEFAULT_BENCHMARK)
    previous = (dora_of_components(session, components, picked.previous, DEFAULT_BENCHMARK)
                if picked.previous is not None else None)
    return {
        "entity": ref, **picked.as_json(), "benchmark": DEFAULT_BENCHMARK, "dora": current, "previousDora": previous,
        "deploymentsPerWeek": [{"weekStarting": label, "deployments": count}
                               for label, count in deployments_per_week(session, components, picked.window)],
        "components": dora_per_component(session, components, picked.window, DEFAULT_BENCHMARK),
        "componentCount": len(components),
        "capabilities": capabilities_used(session, list(components)),
        "openRequests": open_requests(session, ref, visible),
    }
