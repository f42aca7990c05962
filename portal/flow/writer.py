"""Upsert flow records: known values never overwritten by unknown ones, older events only fill gaps.
How states order on a tie, which columns a state clears and which keep their earliest value is
portal/flow/lifecycle.py's; this module applies it in Python (within a batch) and in SQL (against the row)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, literal_column, null, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from portal.flow.link_changes import log_link_changes
from portal.flow.lifecycle import (
    EARLIEST_COLUMNS,
    STATE_BOUND_COLUMNS,
    LIFECYCLES,
    STATE_COLUMN,
    apply_state_bounds,
    is_older,
)
from portal.flow.records import APPEND_ONLY_KEYS, RECORD_TABLES, FlowRecord


def record_key(record: FlowRecord) -> tuple:
    """What makes a record one row: its kind and id (history rows: their unique columns)."""
    return record.kind, _key(record)


def _key(record: FlowRecord) -> object:
    unique = APPEND_ONLY_KEYS.get(record.kind)
    return tuple(record.values.get(name) for name in unique) if unique else record.values["id"]


def _merge(records: Iterable[FlowRecord]) -> dict[str, dict[object, tuple[dict, dict]]]:
    """Group by kind and id, the newest event's non-null values winning, so no statement hits a row twice.
    Each entry is (values, defaults): defaults only fill what no record of that id knew, the first one winning."""
    merged: dict[str, dict[object, tuple[dict, dict]]] = {}
    for record in records:
        values, defaults = merged.setdefault(record.kind, {}).setdefault(_key(record), ({}, {}))
        known = {k: v for k, v in record.values.items() if v is not None}
        earliest = {name: min(v for v in (known.get(name), values.get(name)) if v is not None)
                    for name in EARLIEST_COLUMNS.get(record.kind, ()) if name in known or name in values}
        if values and is_older(record.kind, known, values):
            # Out of order within one batch: the older event only fills what newer ones did not know.
            known.update(values)
        values.update(known)
        values.update(earliest)
        # Defaults are insert-only in the table, so within a batch the first record's win too.
        for name, value in record.defaults.items():
            defaults.setdefault(name, value)
    return {
        kind: {key: (apply_state_bounds(kind, values), {k: v for k, v in defaults.items() if k not in values})
               for key, (values, defaults) in rows.items()}
        for kind, rows in merged.items()
    }


def write_records(session: Session, records: Iterable[FlowRecord]) -> int:
    """Upsert all records; returns how many were written."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = datetime.now(UTC)
    written = 0
    merged = _merge(records)
    # What DORA's rollup must redo is logged in the same transaction as the records themselves.
    log_link_changes(session, ((kind, {**defaults, **values}) for kind, rows in merged.items()
                               for values, defaults in rows.values()))
    for kind, rows in merged.items():
        model = RECORD_TABLES[kind]
        table = model.__table__
        if kind in APPEND_ONLY_KEYS:
            # History rows: the first one written for a key stays (a replayed delivery adds nothing).
            statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(APPEND_ONLY_KEYS[kind]))
            optional = [c.name for c in table.columns if c.nullable and c.name != "id"]
            params = [{**dict.fromkeys(optional), **values} for values, _ in rows.values()]
            session.execute(statement, params)
            written += len(params)
            continue
        columns = [c.name for c in table.columns]
        # One statement per set of insert-only columns, since those are left alone on update.
        groups: dict[frozenset, list[dict]] = {}
        for values, defaults in rows.values():
            row = {**defaults, **values, "updated_at": now}
            groups.setdefault(frozenset(defaults), []).append({name: row.get(name) for name in columns})
        for insert_only, params in groups.items():
            session.execute(_upsert(dialect, kind, table, columns, insert_only), params)
            written += len(params)
    return written


def _text(value: str):  # noqa: ANN202 - a SQL literal
    # States are fixed identifiers of lifecycle.py, written inline: executemany cannot expand bound lists.
    return literal_column("'" + value.replace("'", "''") + "'")


def _rank(kind: str, column):  # noqa: ANN001, ANN202 - SQL expressions
    ranks = LIFECYCLES[kind][1]
    return case(*((column == _text(state), literal_column(str(rank))) for state, rank in ranks.items()),
                else_=literal_column("-1"))


def _newer(kind: str, table, excluded):  # noqa: ANN001, ANN202 - SQL expressions
    """The incoming row is at least as new as the stored one (lifecycle.is_older's rule, in SQL)."""
    stored, incoming = table.c.source_updated_at, excluded.source_updated_at
    state = STATE_COLUMN.get(kind)
    if state is None:
        same_time_wins = incoming == stored
    else:
        same_time_wins = and_(incoming == stored, _rank(kind, excluded[state]) >= _rank(kind, table.c[state]))
    return or_(stored.is_(None), incoming.is_(None), incoming > stored, same_time_wins)


def _upsert(dialect, kind: str, table, columns: list[str], insert_only: frozenset):  # noqa: ANN001
    insert = dialect.insert(table)
    excluded = insert.excluded
    newer = _newer(kind, table, excluded)
    earliest = EARLIEST_COLUMNS.get(kind, frozenset())

    def merged(name: str):  # noqa: ANN202 - a SQL expression
        if name in insert_only:
            return table.c[name]
        if name in earliest:
            return case((excluded[name].is_(None), table.c[name]), (table.c[name].is_(None), excluded[name]),
                        (excluded[name] < table.c[name], excluded[name]), else_=table.c[name])
        # A newer event overwrites what it knows; an older one (out of order) only fills what is unknown.
        return case((newer, func.coalesce(excluded[name], table.c[name])),
                    else_=func.coalesce(table.c[name], excluded[name]))

    assignments = {name: merged(name) for name in columns if name != "id"}
    state = STATE_COLUMN.get(kind)
    for name, allowed in STATE_BOUND_COLUMNS.get(kind, {}).items():
        if name in assignments and state in assignments:
            # Judged on the merged state: whatever arrives late, a reopened record keeps no close time.
            merged_state = assignments[state]
            allowed_now = or_(*(merged_state == _text(value) for value in sorted(allowed)))
            assignments[name] = case((and_(merged_state.is_not(None), ~allowed_now), null()), else_=assignments[name])
    return insert.on_conflict_do_update(index_elements=["id"], set_=assignments)
