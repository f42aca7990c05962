"""The catalog query engine: Backstage's filters, ordering, full-text and keyset paging, in SQL."""

from __future__ import annotations

import json

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import func, select, text
from sqlmodel import Session

from portal.catalog.cursor import Cursor, decode_cursor, encode_cursor
from portal.catalog.entity_fields import project
from portal.catalog.generation import cached
from portal.catalog.models import CatalogEntity
from portal.catalog.point_reads import entities_by_uids, entity_by_ref
from portal.catalog.query_facets import facet_counts
from portal.catalog.query_filters import FilterGroup, filter_condition, parse_filter_params, validate_filters
from portal.catalog.query_paging import PagePlan, count_matches, read_rows
from portal.catalog.refs import RefError, parse_ref
from portal.catalog.store import assemble
from portal.errors import CatalogApiError

__all__ = [
    "DEFAULT_LIMIT", "EntityQuery", "QueryPage", "entity_facets", "get_by_ref", "get_by_refs",
    "parse_filter_params", "parse_order_fields", "query_entities",
]

# Backstage's documented default page size for /entities/by-query.
DEFAULT_LIMIT = 20
Direction = Literal["asc", "desc"]


@dataclass
class EntityQuery:
    """One by-query request. With `cursor` set, only `limit` and `fields` are read from here."""

    filters: list[FilterGroup] = field(default_factory=list)
    fields: list[str] | None = None
    limit: int | None = None
    order_fields: list[tuple[str, Direction]] = field(default_factory=list)
    full_text_term: str | None = None
    full_text_fields: list[str] | None = None
    cursor: str | None = None
    # Rows to skip on a first request (Backstage's `offset`); cursors then continue by keyset.
    offset: int | None = None
    # False skips the COUNT (Backstage's `totalItems=exclude`); totalItems is then 0.
    count_total: bool = True


@dataclass
class QueryPage:
    items: list[dict]
    total_items: int
    next_cursor: str | None = None
    prev_cursor: str | None = None


def parse_order_fields(values: Sequence[str] | None) -> list[tuple[str, Direction]]:
    """`orderField=metadata.name,asc` parameters -> [("metadata.name", "asc")]; order defaults to asc."""
    result: list[tuple[str, Direction]] = []
    for value in values or []:
        name, _, direction = value.partition(",")
        name, direction = name.strip(), (direction.strip().lower() or "asc")
        if not name or direction not in ("asc", "desc"):
            raise CatalogApiError(
                400, f"Invalid orderField '{value}', expected a field and 'asc' or 'desc', e.g. metadata.name,asc"
            )
        result.append((name, direction))  # type: ignore[arg-type]
    return result


def _initial_cursor(q: EntityQuery) -> Cursor:
    term = (q.full_text_term or "").strip() or None
    return Cursor(
        filters=validate_filters(list(q.filters or [])),
        order_fields=[(name, direction) for name, direction in q.order_fields],
        full_text_term=term,
        full_text_fields=list(q.full_text_fields) if q.full_text_fields else None,
    )


def _tune_postgres_planning(session: Session) -> None:
    """Plan catalog queries for their actual parameters, without JIT, for this transaction.

    Page queries stop after a few index rows but carry huge worst-case cost estimates: JIT would
    spend ~80 ms compiling a 1 ms query. And psycopg prepares a statement after 5 runs, after which
    PostgreSQL may switch to a generic plan that ignores which key is filtered on (seconds, not ms).
    """
    if session.get_bind().dialect.name == "postgresql":
        # Both in one round trip (set_config(..., true) is SET LOCAL).
        session.execute(text("SELECT set_config('jit', 'off', true), "
                             "set_config('plan_cache_mode', 'force_custom_plan', true)"))


def _position_fits(position: list, sorted_by_value: bool) -> bool:
    """A cursor position has the shape read_rows gives it: [uid], [None, uid] or [value, original, uid]."""
    if not sorted_by_value:
        return len(position) == 1 and position[0] is not None
    if len(position) == 2:
        return position[0] is None and position[1] is not None
    return len(position) == 3 and None not in position


def _use_probes(session: Session, total: int | None) -> bool:
    """Pick per-entity EXISTS checks when matches are dense enough that a page is found quickly.

    Sparse matches are better found through IN lists of the few matching uids.
    """
    if total is None:
        return True
    return total * DENSE_MATCH_RATIO >= _entity_count_estimate(session)


def _entity_count_estimate(session: Session) -> int:
    """Roughly how many entities there are: exact on SQLite (cheap there), the planner's estimate on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        estimate = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'catalog_entities'::regclass")
        ).scalar_one_or_none()
        if estimate is not None and estimate >= 0:
            return int(estimate)
    return session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()


# Probing pays off when at least 1 in this many entities matches: a page then scans ~limit*ratio rows.
DENSE_MATCH_RATIO = 50


def query_entities(session: Session, q: EntityQuery) -> QueryPage:
    """One page of entities matching `q`, with the total count and cursors to the next/previous page."""
    limit = DEFAULT_LIMIT if q.limit is None else q.limit
    if limit < 0:
        raise CatalogApiError(400, f"Invalid limit {limit}, it must be zero or a positive number")
    if q.offset is not None and q.offset < 0:
        raise CatalogApiError(400, f"Invalid offset {q.offset}, it must be zero or a positive number")
    _tune_postgres_planning(session)
    is_initial = not q.cursor
    cursor = _initial_cursor(q) if is_initial else decode_cursor(q.cursor)
    sort = cursor.order_fields[0] if cursor.order_fields else None  # Backstage uses only the first
    plan = PagePlan(cursor, sort[0].lower() if sort else None, sort is None or sort[1] == "asc", probe=False)

    total = cursor.total_items
    if total is None and q.count_total:
        question = ("count", _question(cursor.filters, cursor.full_text_term, cursor.full_text_fields))
        total = cached(session, question, lambda: count_matches(session, plan))
    plan.probe = _use_probes(session, total)
    if not is_initial and not _position_fits(cursor.position, sorted_by_value=sort is not None):
        raise CatalogApiError(400, "Malformed cursor, could not be parsed; start again without a cursor")

    rows: list[list] = []
    if limit > 0 and total != 0:  # a known total of 0 needs no page query
        # One extra row going forward tells whether a next page exists.
        rows = read_rows(session, plan, None if is_initial else cursor.position, cursor.backwards,
                         limit if cursor.backwards else limit + 1, offset=(q.offset or 0) if is_initial else 0)
    if cursor.backwards:
        rows.reverse()
    has_next = limit > 0 and (cursor.backwards or len(rows) > limit)
    rows = rows[:limit]

    next_cursor = prev_cursor = None
    if rows:
        first_position = cursor.first_position or rows[0]
        base = dict(
            filters=cursor.filters, order_fields=cursor.order_fields, full_text_term=cursor.full_text_term,
            full_text_fields=cursor.full_text_fields, first_position=first_position, total_items=total,
        )
        if has_next:
            next_cursor = encode_cursor(Cursor(**base, position=rows[-1], backwards=False))
        if not is_initial and rows[0] != first_position:
            prev_cursor = encode_cursor(Cursor(**base, position=rows[0], backwards=True))
    items = _load(session, [row[-1] for row in rows], q.fields)
    return QueryPage(items=items, total_items=total or 0, next_cursor=next_cursor, prev_cursor=prev_cursor)


def _load(session: Session, uids: list[str], fields: list[str] | None) -> list[dict]:
    """Full (or projected) entities for `uids`, in that order, in one statement."""
    return [project(entity, fields) for entity in entities_by_uids(session.connection(), uids)]


def get_by_ref(session: Session, ref: str | dict, fields: list[str] | None = None) -> dict | None:
    """One entity by reference (`kind:namespace/name`, namespace optional), case-insensitive, or None."""
    entity = entity_by_ref(session.connection(), ref)
    return None if entity is None else project(entity, fields)


REFS_CHUNK = 500


def get_by_refs(
    session: Session, refs: Sequence[str], fields: list[str] | None = None,
    filters: list[FilterGroup] | None = None,
) -> list[dict | None]:
    """Entities for `refs` in the same order, None where missing (or not matching `filters`)."""
    keys: list[str | None] = []
    for ref in refs:
        try:
            keys.append(parse_ref(ref).key)
        except RefError:
            keys.append(None)
    wanted = sorted({key for key in keys if key})
    found: dict[str, dict] = {}
    for start in range(0, len(wanted), REFS_CHUNK):
        chunk = wanted[start : start + REFS_CHUNK]
        rows = session.execute(
            select(CatalogEntity).where(
                CatalogEntity.entity_ref.in_(chunk), filter_condition(CatalogEntity.uid, filters)
            )
        ).scalars().all()
        for entity, row in zip(assemble(session, rows), rows, strict=True):
            found[row.entity_ref] = project(entity, fields)
    return [found.get(key) if key else None for key in keys]


def entity_facets(
    session: Session, facets: Sequence[str], filters: list[FilterGroup] | None = None
) -> dict[str, list[dict]]:
    """Distinct values of each facet with how many matching entities have them, counted in SQL."""
    _tune_postgres_planning(session)
    checked = validate_filters(list(filters or []))
    question = ("facets", tuple(facets), _question(checked))
    return cached(session, question, lambda: facet_counts(session, facets, checked))


def _question(*parts: object) -> str:
    """A stable text form of a query's filters, for the generation cache's key."""
    return json.dumps(parts, sort_keys=True, default=str)
