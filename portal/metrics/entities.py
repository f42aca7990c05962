"""Which components a metric covers: an entity ref resolved to components and their record links.

A component stands for itself; a system for its parts; a domain for its systems' parts; a group for
the components it or any group below it owns; a platform product for the components that use one of
its capabilities (declared with `usesCapability`, or named by a delivered order of the capability).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.group_tree import groups_below
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.refs import RefError, parse_ref
from portal.errors import CatalogApiError
from portal.flow.query import LINK_ANNOTATIONS, Link, as_utc
from portal.metrics.deliveries import UNDELIVERED_ENDS, first_by_component
from portal.requests.models import Request
from portal.requests.stages import DELIVERED_STAGES

SCOPED_KINDS = ("component", "system", "domain", "group", "platformproduct")
# Reaching any of DELIVERED_STAGES means the order was delivered; UNDELIVERED_ENDS end it without delivery
# (the team page imports both from here).
_ANNOTATION_PREFIX = "metadata.annotations."


@dataclass
class Scope:
    """The entity asked about and the components its metrics are computed over."""

    ref: str
    kind: str
    components: dict[str, list[Link]] = field(default_factory=dict)


@dataclass(frozen=True)
class Adoption:
    """A component's use of a capability: since when, and what says so (`order` or `catalog`)."""

    component: str
    capability: str
    at: datetime | None
    source: str


def parse_entity_ref(ref: str, name: str = "entity") -> str:
    """The lower-cased `kind:namespace/name` of a query value (kind defaults to component); 400 if malformed."""
    if len(ref) > 400 or "\x00" in ref:
        raise CatalogApiError(400, f"{name} must be an entity reference of at most 400 characters")
    try:
        return parse_ref(ref, default_kind="component").key
    except RefError as error:
        raise CatalogApiError(400, f"{name}={ref[:100]!r} is not an entity reference: {error}") from None


def entity_kind(session: Session, key: str) -> str:
    """The stored kind (lower-cased) of an entity; 404 when the catalog has no such entity."""
    kind = session.execute(select(CatalogEntity.kind).where(CatalogEntity.entity_ref == key)).scalar_one_or_none()
    if kind is None:
        raise CatalogApiError(404, f"No entity {key} in the catalog")
    return kind.lower()


def resolve_scope(session: Session, ref: str) -> Scope:
    """The components behind `ref` with their links; 400 for a malformed ref or a kind without
    delivery data, 404 for an entity the catalog does not have."""
    key = parse_entity_ref(ref)
    kind = entity_kind(session, key)
    if kind not in SCOPED_KINDS:
        raise CatalogApiError(400, f"{key} is a {kind}; DORA metrics cover a component, system, domain, "
                                   "group or platformproduct")
    if kind == "component":
        components = {key}
    elif kind == "system":
        components = _targets(session, [key], "hasPart", "component:")
    elif kind == "domain":
        components = _targets(session, _targets(session, [key], "hasPart", "system:"), "hasPart", "component:")
    elif kind == "group":
        components = _targets(session, groups_below(session, key), "ownerOf", "component:")
    else:
        capabilities = capabilities_of_product(session, key)
        components = {adoption.component for adoption in adopters(session, capabilities)}
    return Scope(ref=key, kind=kind, components=component_links(session, components))


def _targets(session: Session, sources: Iterable[str], relation: str, prefix: str) -> set[str]:
    sources = list(sources)
    if not sources:
        return set()
    rows = session.execute(
        select(CatalogRelation.target_ref).where(CatalogRelation.source_ref.in_(sources),
                                                 CatalogRelation.type == relation,
                                                 CatalogRelation.target_ref.like(prefix + "%"))
    ).scalars()
    return {ref.lower() for ref in rows}


def capabilities_of_product(session: Session, product: str) -> set[str]:
    return _targets(session, [product], "hasPart", "capability:")


def component_links(session: Session, components: Iterable[str]) -> dict[str, list[Link]]:
    """Each existing component's (annotation, value) links, in one query; unknown refs are left out."""
    refs = sorted(set(components))
    if not refs:
        return {}
    uids = dict(session.execute(
        select(CatalogEntity.uid, CatalogEntity.entity_ref).where(CatalogEntity.entity_ref.in_(refs))
    ).all())
    links: dict[str, list[Link]] = {ref: [] for ref in uids.values()}
    if uids:
        rows = session.execute(
            select(CatalogSearch.entity_uid, CatalogSearch.key, CatalogSearch.value).where(
                CatalogSearch.entity_uid.in_(list(uids)),
                CatalogSearch.key.in_([_ANNOTATION_PREFIX + name for name in LINK_ANNOTATIONS]),
                CatalogSearch.value.is_not(None))
        ).all()
        for uid, key, value in rows:
            links[uids[uid]].append((key[len(_ANNOTATION_PREFIX):], value))
    return {ref: sorted(found) for ref, found in sorted(links.items())}


def named_component(component_ref: str | None, parameters: object) -> str | None:
    """The component an order was placed for or created: the request's link (`component`, set when
    ordering, through `PUT …/links` or from the template's output), else its `component` parameter."""
    if component_ref:
        return component_ref
    value = parameters.get("component") if isinstance(parameters, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > 400:
        return None
    try:
        parsed = parse_ref(value.strip(), default_kind="component")
    except RefError:
        return None
    return parsed.key if parsed.kind.lower() == "component" else None


def ordered_component(order: Request) -> str | None:
    """`named_component` of an order."""
    return named_component(order.component_ref, order.parameters or {})


def adopters(session: Session, capabilities: Iterable[str]) -> list[Adoption]:
    """Every (component, capability) adoption, dated by the first delivered order naming the component,
    else, for a component whose descriptor declares the capability, by when the catalog first stored it."""
    capabilities = sorted(set(capabilities))
    found: dict[tuple[str, str], Adoption] = {}
    for capability, component_ref, parameters, at in first_by_component(session, capabilities):
        component = named_component(component_ref, parameters)
        known = found.get((component, capability))
        if component and (known is None or at < known.at):
            found[(component, capability)] = Adoption(component, capability, at, "order")
    if capabilities:
        declared = session.execute(
            select(CatalogRelation.source_ref, CatalogRelation.target_ref, CatalogEntity.created_at)
            .join(CatalogEntity, CatalogEntity.entity_ref == CatalogRelation.source_ref)
            .where(CatalogRelation.type == "usesCapability", CatalogRelation.target_ref.in_(capabilities),
                   CatalogRelation.source_ref.like("component:%"))
        ).all()
        for component, capability, created in declared:
            found.setdefault((component, capability), Adoption(component, capability, as_utc(created), "catalog"))
    return sorted(found.values(), key=lambda adoption: (adoption.capability, adoption.component))
