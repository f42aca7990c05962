"""Entity counts per (key, kind, value) for the keys catalogs are faceted by, kept as entities are written.

Counting a key's values from the search index reads every row of the key (400,000 index entries for
kind, spec.type and metadata.tags at 100,000 entities: 50-120 ms), and the per-generation cache
is empty after every write. For the keys below the store keeps the counts itself: each write adds
the counts of the rows it inserts and subtracts those of the rows it deletes, in the same
transaction. The keys are fixed here (and in migration 0022, which filled the table): keys with a
few values per kind, which the catalog page and Backstage's catalog filters ask about. Facets of
other keys are counted from the index as before.

Deltas are applied only after the write has bumped the catalog generation: that row's lock is held
until commit, so on PostgreSQL concurrent writers update the counts one after the other, never
waiting on each other's count rows in opposite orders (no deadlocks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from portal.catalog.models import CatalogFacetCount, CatalogSearch

COUNTED_KEYS = frozenset({
    "kind", "metadata.namespace", "metadata.tags", "spec.type", "spec.lifecycle", "spec.owner",
})
# (key, kind, value, original_value) -> change in the number of entities.
Deltas = Counter


def added_rows(search_rows: Iterable[tuple]) -> Deltas:
    """Counts of the counted keys in new search rows `(uid, key, value, original_value, kind)`."""
    return Counter((key, kind, value, original) for _, key, value, original, kind in search_rows
                   if key in COUNTED_KEYS and original is not None)


def removed_rows(session: Session, uids: Sequence[str]) -> Deltas:
    """Negative counts of the counted rows the entities `uids` have now (read before deleting them)."""
    if not uids:
        return Counter()
    search = CatalogSearch
    rows = session.execute(
        select(search.key, search.kind, search.value, search.original_value, func.count())
        .where(search.entity_uid.in_(list(uids)), search.key.in_(sorted(COUNTED_KEYS)),
               search.original_value.is_not(None))
        .group_by(search.key, search.kind, search.value, search.original_value)
    ).all()
    return Counter({(key, kind, value, original): -count for key, kind, value, original, count in rows})


def apply(session: Session, deltas: Deltas) -> None:
    """Add `deltas` to the stored counts (call after bump_generation; see the module docstring)."""
    changes = sorted((key, change) for key, change in deltas.items() if change)
    if not changes:
        return
    table = CatalogFacetCount.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "kind", "value", "original_value"],
        set_={"entities": table.c.entities + statement.excluded.entities},
    )
    session.execute(statement, [
        {"key": key, "kind": kind, "value": value, "original_value": original, "entities": change}
        for (key, kind, value, original), change in changes
    ])
    if any(change < 0 for _, change in changes):
        touched = sorted({key for (key, _, _, _), _ in changes})
        session.execute(delete(table).where(table.c.key.in_(touched), table.c.entities <= 0))


def facet_rows(session: Session, keys: Sequence[str], kinds: Sequence[str] | None) -> list:
    """(key, original_value, entities) of counted `keys`, for entities of `kinds` (None: every kind)."""
    table = CatalogFacetCount
    query = (select(table.key, table.original_value, func.sum(table.entities))
             .where(table.key.in_(list(keys)))
             .group_by(table.key, table.value, table.original_value))
    if kinds is not None:
        query = query.where(table.kind.in_(list(kinds)))
    return session.execute(query).all()


def entities_with(session: Session, key: str, value: str, kinds: Sequence[str] | None) -> int:
    """How many entities (of `kinds`) have `key = value`, lower-cased; each has a (key, value) once."""
    table = CatalogFacetCount
    query = select(func.coalesce(func.sum(table.entities), 0)).where(table.key == key, table.value == value)
    if kinds is not None:
        query = query.where(table.kind.in_(list(kinds)))
    return int(session.execute(query).scalar_one())


def entities_per_kind(session: Session) -> dict[str, int]:
    """{lower-cased kind: entities}: the `kind` key's counts, one row per kind and casing."""
    table = CatalogFacetCount
    rows = session.execute(
        select(table.kind, func.sum(table.entities)).where(table.key == "kind").group_by(table.kind)
    ).all()
    return {kind: int(count) for kind, count in rows}
