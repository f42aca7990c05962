"""Upsert flow records: known values never overwritten by unknown ones, older events only fill gaps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import case, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from portal.flow.records import RECORD_TABLES, FlowRecord


def _merge(records: Iterable[FlowRecord]) -> dict[str, dict[object, tuple[dict, dict]]]:
    """Group by kind and id, the newest event's non-null values winning, so no statement hits a row twice.
    Each entry is (values, defaults): defaults only fill what no record of that id knew, the first one winning."""
    merged: dict[str, dict[object, tuple[dict, dict]]] = {}
    for record in records:
        key = (record.values.get("work_item_id"), record.values.get("at"), record.values.get("to_status")) \
            if record.kind == "transition" else record.values["id"]
        values, defaults = merged.setdefault(record.kind, {}).setdefault(key, ({}, {}))
        known = {k: v for k, v in record.values.items() if v is not None}
        if _older(known.get("source_updated_at"), values.get("source_updated_at")):
            # Out of order within one batch: the older event only fills what newer ones did not know.
            known.update(values)
        values.update(known)
        # Defaults are insert-only in the table, so within a batch the first record's win too.
        for name, value in record.defaults.items():
            defaults.setdefault(name, value)
    return {
        kind: {key: (values, {k: v for k, v in defaults.items() if k not in values})
               for key, (values, defaults) in rows.items()}
        for kind, rows in merged.items()
    }


def _older(candidate: object, current: object) -> bool:
    return candidate is not None and current is not None and candidate < current


def write_records(session: Session, records: Iterable[FlowRecord]) -> int:
    """Upsert all records; returns how many were written."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = datetime.now(UTC)
    written = 0
    for kind, rows in _merge(records).items():
        model = RECORD_TABLES[kind]
        table = model.__table__
        if kind == "transition":
            statement = dialect.insert(table).on_conflict_do_nothing(
                index_elements=["work_item_id", "at", "to_status"])
            params = [{"from_status": None, "author": None, **values} for values, _ in rows.values()]
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
            session.execute(_upsert(dialect, table, columns, insert_only), params)
            written += len(params)
    return written


def _upsert(dialect, table, columns: list[str], insert_only: frozenset):  # noqa: ANN001
    insert = dialect.insert(table)
    excluded = insert.excluded
    newer = or_(
        table.c.source_updated_at.is_(None),
        excluded.source_updated_at.is_(None),
        excluded.source_updated_at >= table.c.source_updated_at,
    )

    def merged(name: str):  # noqa: ANN202 - a SQL expression
        if name in insert_only:
            return table.c[name]
        # A newer event overwrites what it knows; an older one (out of order) only fills what is unknown.
        return case((newer, func.coalesce(excluded[name], table.c[name])),
                    else_=func.coalesce(table.c[name], excluded[name]))

    return insert.on_conflict_do_update(
        index_elements=["id"], set_={name: merged(name) for name in columns if name != "id"})
