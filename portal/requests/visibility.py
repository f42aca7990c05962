"""Which requests a caller may see, as one SQL condition that filters lists and single reads alike.

With `FLOWPORT_REQUESTS_VISIBLE_TO=involved` (the default) a signed-in caller sees the requests they
raised, those raised by members of the groups they belong to directly (their team's), and those for a
capability or product one of their groups (parent groups included) owns or approves; admins see all. `everyone` shows every request to
every signed-in caller. Anonymous callers who may read at all (the development playground) see all.
"""

from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.auth.identity import Identity
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.requests.models import Request


def _groups(identity: Identity) -> list[str]:
    return [ref for ref in identity.ownership_refs if ref.startswith("group:")]


def owned_offerings(session: Session, groups: list[str]) -> list[str]:
    """Capabilities and products (and anything else) whose owner (ownedBy) is one of the groups."""
    return sorted(set(session.execute(select(CatalogRelation.source_ref).where(
        CatalogRelation.type == "ownedBy", CatalogRelation.target_ref.in_(groups))).scalars()))


def approving_offerings(session: Session, groups: list[str]) -> list[str]:
    """Capabilities whose spec.fulfillment.approvers is one of the groups."""
    # Approvers may be written in full (`group:default/sre`) or short (`sre`, `group:sre`): match all three.
    spellings = {spelling for ref in groups
                 for spelling in (ref, ref.split("/", 1)[-1], "group:" + ref.split("/", 1)[-1])}
    return sorted(set(session.execute(select(CatalogEntity.entity_ref).where(CatalogEntity.uid.in_(
        select(CatalogSearch.entity_uid).where(CatalogSearch.key == "spec.fulfillment.approvers",
                                               CatalogSearch.value.in_(spellings))))).scalars()))


def _offerings_of(session: Session, groups: list[str]) -> list[str]:
    """Capabilities and products whose owner (ownedBy) or approvers (spec.fulfillment.approvers) is one of the groups."""
    return sorted({*owned_offerings(session, groups), *approving_offerings(session, groups)})


def visible_requests(session: Session, identity: Identity, visible_to: str, anonymous_may_read: bool
                     ) -> ColumnElement | None:
    """The condition on `Request` rows the caller may see; None when they see every request."""
    if not identity.is_authenticated:
        return None if anonymous_may_read else false()
    if visible_to == "everyone" or identity.is_admin:
        return None
    groups = _groups(identity)
    conditions = [Request.requester_ref == identity.user_ref]
    if identity.team_refs:
        teammates = select(CatalogRelation.source_ref).where(CatalogRelation.type == "memberOf",
                                                             CatalogRelation.target_ref.in_(identity.team_refs))
        conditions.append(Request.requester_ref.in_(teammates))
    if groups:
        offerings = _offerings_of(session, groups)
        if offerings:
            conditions += [Request.capability_ref.in_(offerings), Request.product_ref.in_(offerings)]
    return or_(*conditions)
