"""Keyset paging over the matching entities: the SQL for one page, in either direction.

With an order field the traversal is: entities having a value for the key (by their smallest
value, then uid), then entities without one (by uid) — "nulls last" whichever the direction.
Each part is read by its own index-ordered query, so a page never sorts the whole result.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, null, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from portal.catalog.cursor import Cursor
from portal.catalog.models import CatalogEntity, CatalogSearch
from portal.catalog.query_filters import filter_condition, full_text_condition, unindexed_key

# Backstage full-text searches this field when neither fields nor an order field are given.
DEFAULT_FULL_TEXT_FIELD = "metadata.uid"
Position = list  # [value or None, uid] when ordered, [uid] when not


@dataclass
class PagePlan:
    """How to read one page: the query, the sort key and direction, and the filter strategy."""

    cursor: Cursor
    sort_key: str | None
    ascending: bool
    probe: bool  # per-entity EXISTS checks (dense matches) instead of IN lists (sparse matches)

    def matches(self, uid_column):
        """The query's filters and full-text term as one condition on `uid_column`."""
        condition = filter_condition(uid_column, self.cursor.filters, probe=self.probe)
        if self.cursor.full_text_term:
            fields = self.cursor.full_text_fields or [self.sort_key or DEFAULT_FULL_TEXT_FIELD]
            condition = and_(condition, full_text_condition(uid_column, self.cursor.full_text_term, fields,
                                                            probe=self.probe))
        return condition


def _beyond(column, bound, up: bool):
    return column > bound if up else column < bound


def _has_value(plan: PagePlan, uid_column):
    search = aliased(CatalogSearch)
    return exists(select(1).where(
        search.entity_uid == uid_column, unindexed_key(search.key, plan.sort_key), search.value.is_not(None)
    ))


def _valued_rows(session: Session, plan: PagePlan, after: Position | None, up: bool, count: int) -> list:
    """Entities having the sort key, each once at its smallest value, after `after` in direction `up`."""
    search, smaller = CatalogSearch, aliased(CatalogSearch)
    query = select(search.entity_uid.label("uid"), search.value.label("value")).where(
        search.key == plan.sort_key, search.value.is_not(None),
        ~exists(select(1).where(smaller.entity_uid == search.entity_uid,
                                unindexed_key(smaller.key, plan.sort_key), smaller.value < search.value)),
        plan.matches(search.entity_uid),
    )
    if after is not None:
        value, uid = after
        # Written as a range plus a tie-break so the (key, value) index range is used.
        query = query.where(search.value >= value if up else search.value <= value,
                            or_(_beyond(search.value, value, up), _beyond(search.entity_uid, uid, up)))
    order = (search.value.asc(), search.entity_uid.asc()) if up else (search.value.desc(), search.entity_uid.desc())
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
              offset: int = 0) -> list[tuple[str | None, str]]:
    """Up to `count` (value, uid) rows after `position` in reading order (reversed when `backwards`)."""
    up = plan.ascending != backwards
    if plan.sort_key is None:
        rows = _plain_rows(session, plan, position[-1] if position else None, up, count + offset, False)
        return [(None, row.uid) for row in rows][offset:]
    in_null_part = bool(position) and position[0] is None
    # Reading forward the valued part comes first; reading backwards the part without values does.
    parts = ["valued", "null"] if not backwards else ["null", "valued"]
    if position:
        parts = parts[parts.index("null" if in_null_part else "valued"):]
    rows: list[tuple[str | None, str]] = []
    for index, part in enumerate(parts):
        wanted = count + offset - len(rows)
        if wanted <= 0:
            break
        after = position if index == 0 else None
        if part == "valued":
            found = _valued_rows(session, plan, after, up, wanted)
        else:
            found = _plain_rows(session, plan, after[-1] if after else None, up, wanted, True)
        rows += [(row.value, row.uid) for row in found]
    return rows[offset:]
