"""Entity facets: distinct values of keys with counts, computed in the database.

The keys the store keeps counts of (kept_counts.COUNTED_KEYS) are read from those counts when the
filters select by kind alone (or there are none): a lookup of a few hundred rows. For other keys
and filters, without filters a facet is counted from ix_catalog_search_key_value: its distinct values are found
by skipping through the index (one seek each), and each value's rows are counted with count(*) in
their own range, about twice as fast as grouping every row. A key with very many distinct values
(metadata.name) is grouped in one pass instead, where one seek per value would cost more.

With other filters that provably match few entities, those entities' rows are read through
ix_catalog_search_entity_key_value; otherwise the key's rows are grouped, keeping those of
matching entities.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from portal.catalog import kept_counts
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.query_count import few_matching_uids
from portal.catalog.query_filters import (
    RELATIONS_PREFIX, FilterGroup, filter_condition, relation_type, unindexed_key_in,
)

# Skip through at most this many distinct values of a key; beyond, one grouped pass is cheaper.
MAX_SKIPPED_VALUES = 300


def _skipped_values(session: Session, key: str) -> list | None:
    """(value, first original, last original, rows) per distinct value of `key`; None if it has too many.

    A recursive query walks the distinct values with one index seek each; every value's first and
    last original_value are a seek each, and its rows a count(*) over its index range.
    """
    walk = aliased(CatalogSearch)
    first = select(walk.value).where(walk.key == key, walk.value.is_not(None)).order_by(walk.value).limit(1)
    values = select(first.scalar_subquery().label("value"), literal(1).label("n")).cte("facet_values", recursive=True)
    following = aliased(CatalogSearch)
    after = (select(following.value).where(following.key == key, following.value > values.c.value)
             .order_by(following.value).limit(1).scalar_subquery())
    values = values.union_all(
        select(after, values.c.n + 1).where(values.c.value.is_not(None), values.c.n < MAX_SKIPPED_VALUES)
    )
    own, counted = aliased(CatalogSearch), aliased(CatalogSearch)
    originals = select(own.original_value).where(own.key == key, own.value == values.c.value).limit(1)
    rows = session.execute(
        select(
            values.c.value,
            originals.order_by(own.original_value.asc()).scalar_subquery(),
            originals.order_by(own.original_value.desc()).scalar_subquery(),
            select(func.count()).where(counted.key == key, counted.value == values.c.value).scalar_subquery(),
        ).where(values.c.value.is_not(None))
    ).all()
    return None if len(rows) >= MAX_SKIPPED_VALUES else rows


def _grouped(session: Session, keys: list[str], condition=None) -> list:
    """(key, original_value, count) of `keys`' rows (matching `condition`), grouped in one pass."""
    search = CatalogSearch
    # Grouping in index order (key, value, original_value) streams the counts instead of sorting;
    # value is the lower-cased original_value, so the groups are the same.
    query = (
        select(search.key, search.original_value, func.count())
        .where(search.key.in_(keys), search.original_value.is_not(None))
        .group_by(search.key, search.value, search.original_value)
    )
    if condition is not None:
        query = query.where(condition)
    return session.execute(query).all()


def _unfiltered_facet(session: Session, key: str) -> list[dict]:
    skipped = _skipped_values(session, key)
    if skipped is None:
        return [{"value": value, "count": int(count)} for _, value, count in _grouped(session, [key])]
    counts = [{"value": first, "count": int(rows)} for _, first, last, rows in skipped if first == last]
    # A value stored in several casings (e.g. "Java" and "java") is one facet value per casing.
    mixed = [value for value, first, last, _ in skipped if first != last]
    if mixed:
        counts += [{"value": original, "count": int(count)}
                   for _, original, count in _grouped(session, [key], CatalogSearch.value.in_(mixed))]
    return counts


def _only_kinds(filters: list[FilterGroup] | None) -> tuple[bool, list[str] | None]:
    """Whether `filters` select entities by kind alone, and which kinds (None: every entity)."""
    if not filters:
        return True, None
    kinds: set[str] = set()
    for group in filters:
        lowered = {key.lower(): values for key, values in group.items()}
        if set(lowered) != {"kind"}:
            return False, None
        if lowered["kind"] is None:  # `kind` exists: every entity
            return True, None
        kinds.update(value.lower() for value in lowered["kind"])
    return True, sorted(kinds)


def _search_facets(session: Session, keys: list[str], filters: list[FilterGroup] | None) -> dict:
    by_kind, kinds = _only_kinds(filters)
    kept = [key for key in keys if key in kept_counts.COUNTED_KEYS] if by_kind else []
    counts: dict[str, list[dict]] = {key: [] for key in keys}
    if kept:
        for key, value, count in kept_counts.facet_rows(session, kept, kinds):
            counts[key].append({"value": value, "count": int(count)})
        keys = [key for key in keys if key not in kept]
        if not keys:
            return counts
    if not filters:
        for key in keys:
            counts[key] = _unfiltered_facet(session, key)
        return counts
    few = few_matching_uids(session, filters)
    rows = (_grouped_for_few(session, keys, few) if few is not None
            else _grouped(session, keys, filter_condition(CatalogSearch.entity_uid, filters,
                                                          kind_column=CatalogSearch.kind)))
    for key, value, count in rows:
        counts[key].append({"value": value, "count": int(count)})
    return counts


def _grouped_for_few(session: Session, keys: list[str], uids) -> list:
    """(key, original_value, count) over the rows of a few entities, read entity by entity."""
    few = uids.subquery()
    search = aliased(CatalogSearch)
    query = (
        select(search.key, search.original_value, func.count())
        .select_from(few).join(search, search.entity_uid == few.c.entity_uid)
        # Not `key IN (...)` on the indexed column: SQLite would then scan the keys' whole ranges
        # and look each row up in the few uids, instead of reading each entity's rows.
        .where(unindexed_key_in(search.key, keys), search.original_value.is_not(None))
        .group_by(search.key, search.value, search.original_value)
    )
    return session.execute(query).all()


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
