"""Entity facets: distinct values of keys with counts, computed with GROUP BY in the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.query_filters import RELATIONS_PREFIX, FilterGroup, filter_condition, relation_type


def _search_facets(session: Session, keys: list[str], filters: list[FilterGroup] | None) -> dict:
    # Grouping in the (key, value, original_value) index order lets the database stream the counts
    # instead of sorting; value is the lower-cased original_value, so the groups are the same.
    query = (
        select(CatalogSearch.key, CatalogSearch.original_value, func.count())
        .where(CatalogSearch.key.in_(keys), CatalogSearch.original_value.is_not(None))
        .group_by(CatalogSearch.key, CatalogSearch.value, CatalogSearch.original_value)
    )
    if filters:
        query = query.where(filter_condition(CatalogSearch.entity_uid, filters))
    counts: dict[str, list[dict]] = {key: [] for key in keys}
    for key, value, count in session.execute(query).all():
        counts[key].append({"value": value, "count": int(count)})
    return counts


def _relation_facet(session: Session, facet: str, filters: list[FilterGroup] | None) -> list[dict]:
    sources = select(CatalogEntity.entity_ref)
    if filters:
        sources = sources.where(filter_condition(CatalogEntity.uid, filters))
    # Both ends of a relation may store the same row, so count each source entity once.
    query = (
        select(CatalogRelation.target_ref, func.count(func.distinct(CatalogRelation.source_ref)))
        .where(CatalogRelation.type == relation_type(facet), CatalogRelation.source_ref.in_(sources))
        .group_by(CatalogRelation.target_ref)
    )
    return [{"value": target, "count": int(count)} for target, count in session.execute(query).all()]


def facet_counts(session: Session, facets: Sequence[str], filters: list[FilterGroup] | None) -> dict:
    """`{facet: [{"value", "count"}]}` for each requested facet, in the casing it was asked for."""
    plain = [facet for facet in facets if not facet.lower().startswith(RELATIONS_PREFIX)]
    search = _search_facets(session, sorted({f.lower() for f in plain}), filters) if plain else {}
    result: dict[str, list[dict]] = {}
    for facet in facets:
        if facet.lower().startswith(RELATIONS_PREFIX):
            values = _relation_facet(session, facet, filters)
        else:
            values = search.get(facet.lower(), [])
        # Most common first, then alphabetical, so the answer is stable.
        result[facet] = sorted(values, key=lambda item: (-item["count"], item["value"]))
    return result
