"""Backstage filter syntax (`filter=kind=component,spec.type`) parsed and turned into SQL conditions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, false, literal, or_, select, true
from sqlalchemy.orm import aliased

from portal.catalog.kinds import RELATION_TYPES_BY_LOWER
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.errors import CatalogApiError

# One AND group: key -> accepted values (any of them), or None for "the key exists".
FilterGroup = dict[str, list[str] | None]
RELATIONS_PREFIX = "relations."


def parse_filter_string(text: str) -> FilterGroup:
    """One `filter` parameter: comma-separated `key=value`, `key=` or bare `key` statements, AND-ed."""
    group: FilterGroup = {}
    for statement in (part.strip() for part in text.split(",")):
        if not statement:
            continue
        key, has_value, value = statement.partition("=")
        key = key.strip()
        if not key:
            raise CatalogApiError(
                400, f"Invalid filter, '{statement}' is not a valid statement "
                "(expected a string on the form a=b or a= or a)",
            )
        if not has_value:
            group.setdefault(key, None)
            continue
        values = group.get(key) or []
        values.append(value.strip())
        group[key] = values  # a value test implies existence, so it replaces a bare `key`
    return group


def parse_filter_params(values: Iterable[str] | None) -> list[FilterGroup]:
    """Repeated `filter` parameters: each is an AND group, the groups are OR-ed; empty ones are dropped."""
    groups = [parse_filter_string(value) for value in values or []]
    return [group for group in groups if group]


def validate_filters(filters: object) -> list[FilterGroup]:
    """Check a decoded filter structure (from a cursor or a Python caller) has the expected shape."""
    if not isinstance(filters, list):
        raise CatalogApiError(400, "Invalid filter: expected a list of filter groups")
    for group in filters:
        if not isinstance(group, dict):
            raise CatalogApiError(400, "Invalid filter: each filter group must be an object")
        for key, values in group.items():
            if not isinstance(key, str) or not key:
                raise CatalogApiError(400, "Invalid filter: keys must be non-empty strings")
            if values is not None and (
                not isinstance(values, list) or not all(isinstance(v, str) for v in values)
            ):
                raise CatalogApiError(400, f"Invalid filter for '{key}': values must be a list of strings")
    return filters


def relation_type(key: str) -> str:
    """`relations.ownedby` -> `ownedBy`; unknown types are kept as written (and simply match nothing)."""
    name = key[len(RELATIONS_PREFIX):]
    return RELATION_TYPES_BY_LOWER.get(name.lower(), name)


def uids_matching(key: str, values: Sequence[str] | None):
    """A subquery of entity uids for one condition: key exists, or has one of `values` (case-insensitive)."""
    if key.lower().startswith(RELATIONS_PREFIX):
        conditions = [CatalogRelation.type == relation_type(key)]
        if values is not None:
            conditions.append(CatalogRelation.target_ref.in_([v.lower() for v in values]))
        # Relations are keyed by ref; entities that do not exist (dangling targets) never match.
        return (
            select(CatalogEntity.uid)
            .where(CatalogEntity.entity_ref.in_(select(CatalogRelation.source_ref).where(*conditions)))
        )
    conditions = [CatalogSearch.key == key.lower()]
    if values is not None:
        conditions.append(CatalogSearch.value.in_([v.lower() for v in values]))
    return select(CatalogSearch.entity_uid).where(*conditions)


def unindexed_key(column, key: str) -> ColumnElement[bool]:
    """`column = key` written so SQLite cannot use an index on it for this term.

    In per-entity probes the (entity_uid) index finds an entity's ~30 rows directly; without this,
    SQLite's planner may instead walk every row of the key in ix_catalog_search_key_value per entity.
    """
    return column.concat("") == key


def unindexed_key_in(column, keys: Sequence[str]) -> ColumnElement[bool]:
    """`column IN keys`, written like unindexed_key so SQLite reads the rows of known entities instead."""
    return column.concat("").in_(list(keys))


def has_row(query) -> ColumnElement[bool]:
    """`(SELECT 1 ... LIMIT 1) IS NOT NULL`: an EXISTS that neither database turns into a join.

    PostgreSQL rewrites plain EXISTS/IN into hash semi-joins over every match; a LIMITed scalar
    subquery stays a per-row probe, so an index-ordered scan can stop after one page.
    """
    return query.limit(1).scalar_subquery().is_not(None)


def probe_matching(uid_column, key: str, values: Sequence[str] | None) -> ColumnElement[bool]:
    """One condition as a per-entity probe of its own rows; fast when most entities match."""
    # Core aliases: an ORM alias costs ~0.1 ms per column used, more than a small probe query runs.
    if key.lower().startswith(RELATIONS_PREFIX):
        owner, relation = CatalogEntity.__table__.alias(), CatalogRelation.__table__
        conditions = [owner.c.uid == uid_column, relation.c.source_ref == owner.c.entity_ref,
                      relation.c.type == relation_type(key)]
        if values is not None:
            conditions.append(relation.c.target_ref.in_([v.lower() for v in values]))
        return has_row(select(literal(1)).where(*conditions))
    search = CatalogSearch.__table__.alias()
    conditions = [search.c.entity_uid == uid_column, unindexed_key(search.c.key, key.lower())]
    if values is not None:
        conditions.append(value_in(search.c.value, values))
    return has_row(select(literal(1)).where(*conditions))


def value_in(column, values: Sequence[str]) -> ColumnElement[bool]:
    """`column` equals one of `values` (lower-cased); `=` for one value, which needs no IN expansion."""
    lowered = sorted({v.lower() for v in values})
    return column == lowered[0] if len(lowered) == 1 else column.in_(lowered)


def filter_condition(uid_column, filters: Sequence[FilterGroup] | None, probe: bool = False,
                     kind_column=None) -> ColumnElement[bool]:
    """A WHERE condition on `uid_column`: OR across groups, AND inside a group. No filters = everything.

    `probe` picks per-entity EXISTS checks (for scans that stop after a page of dense matches) instead
    of IN lists (best when few entities match, or to count). `kind_column`, the kind of the row whose
    uid is tested (a search row's own `kind`), answers `kind=...` tests without looking elsewhere.
    """
    if not filters:
        return true()
    groups = []
    for group in filters:
        parts = [
            value_in(kind_column, values) if kind_column is not None and values and key.lower() == "kind"
            else probe_matching(uid_column, key, values) if probe
            else uid_column.in_(uids_matching(key, values))
            for key, values in group.items()
        ]
        groups.append(and_(*parts) if parts else true())
    return or_(*groups) if groups else false()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def full_text_condition(uid_column, term: str, fields: Sequence[str], probe: bool = False) -> ColumnElement[bool]:
    """Case-insensitive substring match of `term` against the search values of `fields`."""
    pattern = f"%{_escape_like(term.lower())}%"
    keys = [field.lower() for field in fields]
    if probe:
        search = aliased(CatalogSearch)
        return has_row(select(literal(1)).where(
            search.entity_uid == uid_column, or_(*(unindexed_key(search.key, k) for k in keys)),
            search.value.like(pattern, escape="\\"),
        ))
    matching = select(CatalogSearch.entity_uid).where(
        CatalogSearch.key.in_(keys), CatalogSearch.value.like(pattern, escape="\\"),
    )
    return uid_column.in_(matching)
