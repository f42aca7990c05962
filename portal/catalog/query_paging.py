"""Keyset paging over the matching entities: the SQL for one page, in either direction.

With an order field the traversal is: entities having a value for the key (by their smallest
value, then uid), then entities without one (by uid) — "nulls last" whichever the direction.
Each part is read by its own index-ordered query, so a page never sorts the whole result.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, literal, null, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from portal.catalog.cursor import Cursor
from portal.catalog.models import CatalogEntity, CatalogSearch
from portal.catalog.query_count import count_from_index
from portal.catalog.query_filters import filter_condition, full_text_condition, has_row, unindexed_key

# Backstage full-text searches this field when neither fields nor an order field are given.
DEFAULT_FULL_TEXT_FIELD = "metadata.uid"
Position = list  # see read_rows


@dataclass
class PagePlan:
    """How to read one page: the query, the sort key and direction, and the filter strategy."""

    cursor: Cursor
    sort_key: str | None
    ascending: bool
    probe: bool  # per-entity EXISTS checks (dense matches) instead of IN lists (sparse matches)

    def matches(self, uid_column, kind_column=None):
        """The query's filters and full-text term as one condition on `uid_column` (see filter_condition)."""
        condition = filter_condition(uid_column, self.cursor.filters, probe=self.probe, kind_column=kind_column)
        if self.cursor.full_text_term:
            fields = self.cursor.full_text_fields or [self.sort_key or DEFAULT_FULL_TEXT_FIELD]
            condition = and_(condition, full_text_condition(uid_column, self.cursor.full_text_term, fields,
                                                            probe=self.probe))
        return condition


def _beyond(column, bound, up: bool):
    return column > bound if up else column < bound


def _has_value(plan: PagePlan, uid_column):
    search = aliased(CatalogSearch)
    return has_row(select(literal(1)).where(
        search.entity_uid == uid_column, unindexed_key(search.key, plan.sort_key), search.value.is_not(None)
    ))


def _valued_source(plan: PagePlan):
    """(uid, value, original) of matching entities having the sort key, once each at their smallest value.

    Dense matches read ix_catalog_search_key_value in order and probe each entity, stopping after a
    page; sparse matches start from the few matching entities and look their sort value up instead.
    """
    if plan.probe:
        search, smaller = CatalogSearch, aliased(CatalogSearch)
        query = select(search.entity_uid.label("uid"), search.value.label("value"),
                       search.original_value.label("original")).where(
            search.key == plan.sort_key, search.value.is_not(None),
            ~has_row(select(literal(1)).where(smaller.entity_uid == search.entity_uid,
                                              unindexed_key(smaller.key, plan.sort_key),
                                              smaller.value < search.value)),
            plan.matches(search.entity_uid, search.kind),
        )
        return query, search.value, search.original_value, search.entity_uid
    lookup, own = aliased(CatalogSearch), aliased(CatalogSearch)
    smallest = (select(func.min(lookup.value))
                .where(lookup.entity_uid == CatalogEntity.uid, unindexed_key(lookup.key, plan.sort_key))
                .scalar_subquery())
    matching = (select(CatalogEntity.uid.label("uid"), smallest.label("value"))
                .where(plan.matches(CatalogEntity.uid)).subquery("matching"))
    query = (
        select(matching.c.uid, matching.c.value, own.original_value.label("original"))
        .join(own, and_(own.entity_uid == matching.c.uid, unindexed_key(own.key, plan.sort_key),
                        own.value == matching.c.value))
        .where(matching.c.value.is_not(None))
    )
    return query, matching.c.value, own.original_value, matching.c.uid


def _valued_rows(session: Session, plan: PagePlan, after: Position | None, up: bool, count: int) -> list:
    """Entities having the sort key after `after` in direction `up`, in (value, original, uid) order.

    That is the order of ix_catalog_search_key_value, so dense reads walk the index and stop early.
    """
    query, value_col, original_col, uid_col = _valued_source(plan)
    if after is not None:
        value, original, uid = after
        # A range on value (so the index range is used) plus the tie-breaks after it; original_value
        # is never NULL here because value is not (value is original_value lower-cased).
        query = query.where(
            value_col >= value if up else value_col <= value,
            or_(_beyond(value_col, value, up),
                and_(value_col == value,
                     or_(_beyond(original_col, original, up),
                         and_(original_col == original, _beyond(uid_col, uid, up))))),
        )
    order = [c.asc() if up else c.desc() for c in (value_col, original_col, uid_col)]
    return session.execute(query.order_by(*order).limit(count)).all()


def _plain_rows(session: Session, plan: PagePlan, after: str | None, up: bool, count: int,
                without_key: bool) -> list:
    """Entities by uid (all of them, or only those lacking the sort key), after uid `after`."""
    uid = CatalogEntity.uid
    query = select(uid.label("uid"), null().label("value")).where(
        plan.matches(uid)
    )
    if without_key:
        query = query.where(~_has_value(plan, uid))
    if after is not None:
        query = query.where(_beyond(uid, after, up))
    return session.execute(query.order_by(uid.asc() if up else uid.desc()).limit(count)).all()


def read_rows(session: Session, plan: PagePlan, position: Position | None, backwards: bool, count: int,
              offset: int = 0) -> list[Position]:
    """Up to `count` positions after `position` in reading order (reversed when `backwards`).

    A position is [value, original_value, uid] in the valued part, [None, uid] in the part without
    a value, and [uid] when unordered; the uid is always last.
    """
    up = plan.ascending != backwards
    if plan.sort_key is None:
        rows = _plain_rows(session, plan, position[-1] if position else None, up, count + offset, False)
        return [[row.uid] for row in rows][offset:]
    in_null_part = bool(position) and position[0] is None
    # Reading forward the valued part comes first; reading backwards the part without values does.
    parts = ["valued", "null"] if not backwards else ["null", "valued"]
    if position:
        parts = parts[parts.index("null" if in_null_part else "valued"):]
    rows: list[Position] = []
    for index, part in enumerate(parts):
        wanted = count + offset - len(rows)
        if wanted <= 0:
            break
        after = position if index == 0 else None
        if part == "valued":
            rows += [[row.value, row.original, row.uid]
                     for row in _valued_rows(session, plan, after, up, wanted)]
        else:
            rows += [[None, row.uid] for row in _plain_rows(session, plan, after[-1] if after else None, up,
                                                             wanted, True)]
    return rows[offset:]


def count_matches(session: Session, plan: PagePlan) -> int:
    """How many entities the query matches.

    Filters on the search index alone are counted from its ranges (query_count); relations
    conditions and full-text terms are counted here, through the entity table.
    """
    if not plan.cursor.full_text_term:
        counted = count_from_index(session, plan.cursor.filters)
        if counted is not None:
            return counted
    return count_through_entities(session, plan)


def count_through_entities(session: Session, plan: PagePlan) -> int:
    """The count in one COUNT over entities matching IN lists (any filter, full text included).

    A single filter group with a one-value condition is counted from that condition's index range
    instead (one row per entity and value), checking the rest against IN lists.
    """
    filters = plan.cursor.filters
    driver = None
    if len(filters) == 1:
        driver = next((key for key, values in filters[0].items()
                       if values is not None and len(values) == 1 and not key.lower().startswith("relations.")), None)
    if driver is None:
        query = select(func.count()).select_from(CatalogEntity).where(plan.matches(CatalogEntity.uid))
        return session.execute(query).scalar_one()
    rest = {key: values for key, values in filters[0].items() if key != driver}
    narrowed = PagePlan(Cursor(**{**plan.cursor.__dict__, "filters": [rest] if rest else []}),
                        plan.sort_key, plan.ascending, probe=False)
    search = CatalogSearch
    query = select(func.count()).select_from(search).where(
        search.key == driver.lower(), search.value == filters[0][driver][0].lower(),
        narrowed.matches(search.entity_uid),
    )
    return session.execute(query).scalar_one()
