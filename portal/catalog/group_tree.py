"""Walking the group hierarchy: the groups above some groups (for admins and ownership) or below one
(a team page counts its child teams). `childOf` and `parentOf` are both read, since a descriptor may
declare the link from either side."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlmodel import Session

from portal.catalog.models import CatalogRelation

# Deeper hierarchies are cut here, which also ends any cycle a catalog may hold.
MAX_GROUP_DEPTH = 32


def _walk(session: Session, groups: Iterable[str], upward: bool) -> set[str]:
    toward, away = ("childOf", "parentOf") if upward else ("parentOf", "childOf")
    found = {group.lower() for group in groups}
    frontier = set(found)
    for _ in range(MAX_GROUP_DEPTH):
        if not frontier:
            break
        rows = session.execute(
            select(CatalogRelation.source_ref, CatalogRelation.type, CatalogRelation.target_ref).where(or_(
                (CatalogRelation.type == toward) & CatalogRelation.source_ref.in_(frontier),
                (CatalogRelation.type == away) & CatalogRelation.target_ref.in_(frontier),
            ))
        ).all()
        reached = {(target if kind == toward else source).lower() for source, kind, target in rows}
        frontier = reached - found
        found |= frontier
    return found


def groups_with_parents(session: Session, groups: Iterable[str]) -> set[str]:
    """The groups and every group above them."""
    return _walk(session, groups, upward=True)


def groups_below(session: Session, group: str) -> set[str]:
    """The group and every group under it."""
    return _walk(session, [group], upward=False)
