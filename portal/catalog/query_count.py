"""Exact match counts read straight from the search index, without visiting entity rows.

A condition `key=value` is one range of ix_catalog_search_key_value holding one row per matching
entity ((key, value) never repeats for an entity), and inside one (key, value, original_value) the
range is in entity_uid order. So the count of a filter is computed like this:

- a `kind=...` test in an AND group scopes the group's other conditions to the rows of that kind
  (each search row carries its entity's kind, at the end of the index), and drops out;
- one condition with one value: the store's kept count when the key is one of
  kept_counts.COUNTED_KEYS, else count(*) over its range;
- an AND group with a small condition: start from that condition's few entities and probe the
  others per entity through ix_catalog_search_entity_key_value;
- an AND group of dense conditions: intersect the uid-ordered ranges. SQLite merges them (a
  compound SELECT with ORDER BY reads each range once, in order); PostgreSQL hash- or merge-joins
  them, with nested loops turned off for that statement, because its row estimates for these
  ranges are far too low and a nested loop would probe tens of thousands of times;
- OR groups: the UNION of the groups' uids.

Relation filters and full-text terms are not in the search index's ranges; count_matches in
query_paging keeps counting those through the entity table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, false, func, intersect, literal, select, text, union
from sqlmodel import Session

from portal.catalog import kept_counts
from portal.catalog.models import CatalogSearch
from portal.catalog.query_filters import RELATIONS_PREFIX, FilterGroup, probe_matching

# Core aliases of the search table: building ORM aliases costs more than the statements run.
SEARCH = CatalogSearch.__table__

# A condition with at most this many index rows drives its group: probing the other conditions
# for its entities (5-7 µs an entity at 100k entities) beats reading a dense range (~0.15 µs a row).
SMALL_CONDITION = 1000


@dataclass(frozen=True)
class Condition:
    """One `key=value[,value...]` (or bare `key`) condition, lower-cased as the index stores it.

    `kinds` scopes it to entities of those kinds, read from the rows' own kind column: in a group
    with `kind=...`, the other conditions carry the kind and the kind condition itself drops out.
    """

    key: str
    values: tuple[str, ...] | None  # None: the key exists
    kinds: tuple[str, ...] | None = None

    @property
    def single_value(self) -> bool:
        """One value: its range holds each matching entity exactly once."""
        return self.values is not None and len(self.values) == 1

    def where(self, search) -> list:
        """The condition on a CatalogSearch alias, as index-range terms (the kind checked in the index)."""
        terms = [search.c.key == self.key]
        if self.values is not None:
            terms.append(search.c.value == self.values[0] if self.single_value else search.c.value.in_(self.values))
        if self.kinds is not None:
            terms.append(search.c.kind == self.kinds[0] if len(self.kinds) == 1 else search.c.kind.in_(self.kinds))
        return terms


def _lowered(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(sorted({value.lower() for value in values}))


def _group_conditions(group: FilterGroup) -> list[Condition]:
    """One AND group as conditions; a `kind=...` test moves into the others' kind scope."""
    lowered = {key.lower(): _lowered(values) for key, values in group.items()}
    kinds = lowered.get("kind")
    others = [key for key in lowered if key != "kind"]
    if kinds is None or not others:
        return [Condition(key, values) for key, values in lowered.items()]
    return [Condition(key, lowered[key], kinds) for key in others]


def conditions_of(filters: Sequence[FilterGroup]) -> list[list[Condition]] | None:
    """The filter groups as conditions, or None when a group needs the relations table."""
    groups = []
    for group in filters:
        if any(key.lower().startswith(RELATIONS_PREFIX) for key in group):
            return None
        groups.append(_group_conditions(group))
    return groups


@dataclass
class Range:
    """What one statement learns about a condition's index range before the count is planned."""

    rows: int  # index rows, counted up to SMALL_CONDITION + 1 (enough to tell small from dense)
    # The range's one original_value when it has exactly one (its rows are then in uid order).
    original: str | None


def _ranges(session: Session, conditions: list[Condition]) -> dict[Condition, Range]:
    """Row counts and single originals of all conditions, in one statement of index seeks."""
    columns = []
    for condition in conditions:
        search = SEARCH.alias()
        bounded = select(literal(1)).where(*condition.where(search)).limit(SMALL_CONDITION + 1).subquery()
        columns.append(select(func.count()).select_from(bounded).scalar_subquery())
        if condition.single_value:
            # The first and last original_value are one index seek each (SQLite would scan the whole
            # range for min()/max() in a subquery); equal means the range has a single one.
            first = select(search.c.original_value).where(*condition.where(search)).limit(1)
            columns += [first.order_by(search.c.original_value.asc()).scalar_subquery(),
                        first.order_by(search.c.original_value.desc()).scalar_subquery()]
    row = iter(session.execute(select(*columns)).one())
    ranges = {}
    for condition in conditions:
        rows = next(row)
        smallest, largest = (next(row), next(row)) if condition.single_value else (None, None)
        ranges[condition] = Range(rows, smallest if smallest is not None and smallest == largest else None)
    return ranges


def _uids(condition: Condition, original: str | None = None) -> Select:
    """entity_uid of the condition's rows; pinned to one original_value they come in uid order."""
    search = SEARCH.alias()
    query = select(search.c.entity_uid.label("entity_uid")).where(*condition.where(search))
    return query.where(search.c.original_value == original) if original is not None else query


def _probed(driver: Condition, others: list[Condition]) -> Select:
    """Uids of the driver's rows whose entities also meet every other condition (per-entity probes)."""
    search = SEARCH.alias()
    probes = [probe_matching(search.c.entity_uid, other.key, None if other.values is None else list(other.values))
              for other in others]
    return select(search.c.entity_uid.label("entity_uid")).where(*driver.where(search), *probes)


def _merged_sqlite(group: list[Condition], ranges: dict[Condition, Range]) -> Select:
    """The group's uids as one merge of uid-ordered ranges (SQLite sorts any range that is not)."""
    sides = [_uids(condition, ranges[condition].original) for condition in group]
    # ORDER BY makes SQLite merge the compound instead of building a temporary index of one side;
    # the LIMIT keeps that order when this is nested in a UNION of groups.
    merged = intersect(*sides).order_by("entity_uid").limit(-1).subquery()
    return select(merged.c.entity_uid)


def _joined_postgres(group: list[Condition], ranges: dict[Condition, Range]) -> Select:
    """The group's uids: uid-ordered one-value ranges joined on entity_uid (merge joins), the rest semi-joined."""
    pins = {condition: ranges[condition].original for condition in group}
    # A one-value range first: it holds each entity once, so the joins never repeat an entity.
    ordered = sorted(group, key=lambda condition: (not condition.single_value, pins[condition] is None))
    driver = SEARCH.alias()
    query = select(driver.c.entity_uid.label("entity_uid")).where(*ordered[0].where(driver))
    if pins[ordered[0]] is not None:
        query = query.where(driver.c.original_value == pins[ordered[0]])
    for other in ordered[1:]:
        if pins[other] is None:
            query = query.where(driver.c.entity_uid.in_(_uids(other)))
            continue
        joined = SEARCH.alias()
        query = query.join(joined, and_(joined.c.entity_uid == driver.c.entity_uid, *other.where(joined),
                                        joined.c.original_value == pins[other]))
    return query


@dataclass
class GroupUids:
    """How one AND group's entities are read: a query of their uids, and whether one may repeat."""

    query: Select
    repeats: bool
    joins: bool  # PostgreSQL joins of dense ranges (planned without nested loops)


def _group_uids(group: list[Condition], ranges: dict[Condition, Range], postgres: bool) -> GroupUids | None:
    """The plan for the entities matching all of `group`, or None when one condition matches nothing."""
    if any(ranges[condition].rows == 0 for condition in group):
        return None
    # The smallest range drives; among equals a one-value one, whose rows are one per entity.
    driver = min(group, key=lambda condition: (ranges[condition].rows, not condition.single_value))
    if len(group) == 1 or ranges[driver].rows <= SMALL_CONDITION:
        others = [condition for condition in group if condition is not driver]
        return GroupUids(_probed(driver, others), repeats=not driver.single_value, joins=False)
    if postgres:
        repeats = not any(condition.single_value for condition in group)
        return GroupUids(_joined_postgres(group, ranges), repeats=repeats, joins=True)
    return GroupUids(_merged_sqlite(group, ranges), repeats=False, joins=False)  # INTERSECT is a set


def count_from_index(session: Session, filters: Sequence[FilterGroup]) -> int | None:
    """How many entities match `filters`, from the search index; None when it cannot answer.

    It cannot answer without filters (that is the entity count) or with a relations condition.
    """
    groups = conditions_of(filters) if filters else None
    if not groups:
        return None
    if len(groups) == 1 and len(groups[0]) == 1 and groups[0][0].single_value:
        # The commonest question needs no planning: the kept counts, or one index range.
        only = groups[0][0]
        if only.key in kept_counts.COUNTED_KEYS:
            return kept_counts.entities_with(session, only.key, only.values[0], only.kinds)
        search = SEARCH.alias()
        return session.execute(select(func.count()).where(*only.where(search))).scalar_one()
    postgres = session.get_bind().dialect.name == "postgresql"
    ranges = _ranges(session, list(dict.fromkeys(condition for group in groups for condition in group)))
    parts = [part for part in (_group_uids(group, ranges, postgres) for group in groups) if part is not None]
    if not parts:
        return 0
    if len(parts) == 1:
        uids = parts[0].query.subquery()
        counted = func.count(func.distinct(uids.c.entity_uid)) if parts[0].repeats else func.count()
        query = select(counted).select_from(uids)
    else:
        query = select(func.count()).select_from(union(*(part.query for part in parts)).subquery())
    if any(part.joins for part in parts):
        return _run_without_nested_loops(session, query)
    return session.execute(query).scalar_one()


def _run_without_nested_loops(session: Session, query) -> int:
    """Run a count on PostgreSQL with hash/merge joins only, then give the planner its nested loops back.

    (If the count fails the transaction is aborted, and the setting ends with it.)
    """
    session.execute(text("SET LOCAL enable_nestloop = off"))
    count = session.execute(query).scalar_one()
    session.execute(text("SET LOCAL enable_nestloop = on"))
    return count


def few_matching_uids(session: Session, filters: Sequence[FilterGroup]) -> Select | None:
    """A query of the uids matching `filters` when they are provably few, else None.

    Few means every AND group has a condition with at most SMALL_CONDITION index rows; such a
    query is driven by those rows, so a caller can read just these entities' rows.
    """
    groups = conditions_of(filters) if filters else None
    if not groups:
        return None
    ranges = _ranges(session, list(dict.fromkeys(condition for group in groups for condition in group)))
    if any(min(ranges[condition].rows for condition in group) > SMALL_CONDITION for group in groups):
        return None
    parts = [part.query for part in (_group_uids(group, ranges, postgres=False) for group in groups) if part]
    if not parts:
        return select(SEARCH.c.entity_uid).where(false())
    # Each entity once: the rows read per uid are counted per uid.
    return parts[0].distinct() if len(parts) == 1 else union(*parts)
