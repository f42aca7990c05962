"""Check a record's values against its table before any statement sees them, so a payload with a wrong
type (a list where a name belongs, a number beyond the column) fails its own delivery with a readable
reason instead of failing the database statement of a whole batch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text

from portal.flow.payload_shape import MalformedPayload
from portal.flow.records import APPEND_ONLY_KEYS, RECORD_TABLES, FlowRecord

# PostgreSQL INTEGER (the narrower of the two databases).
_INT_RANGE = (-(2**31), 2**31 - 1)


def _problem(column, value: object) -> str | None:  # noqa: ANN001 - a SQLAlchemy column
    """Why `value` cannot go into `column`, or None when it can."""
    # SQLModel's AutoString and UTCDateTime decorate String and DateTime: judge by what they store.
    kind = getattr(column.type, "impl_instance", column.type)
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return None if _INT_RANGE[0] <= value <= _INT_RANGE[1] else "is out of range"
    if isinstance(kind, String | Text):
        if not isinstance(value, str):
            return "must be text"
        if "\x00" in value:
            return "contains a NUL character"
        length = getattr(kind, "length", None)
        return f"is longer than {length} characters" if length and len(value) > length else None
    if isinstance(kind, DateTime):
        return None if isinstance(value, datetime) else "must be a time"
    return None


def check_record(record: FlowRecord) -> None:
    """Raise MalformedPayload naming the record and column of the first value its table cannot hold."""
    table = RECORD_TABLES[record.kind].__table__
    for column in table.columns:
        # Required columns: the writer fills updated_at, the database numbers history rows.
        if column.nullable or column.name == "updated_at" or (column.primary_key and record.kind in APPEND_ONLY_KEYS):
            continue
        if record.values.get(column.name) is None and record.defaults.get(column.name) is None:
            raise MalformedPayload(f"{record.kind} record lacks `{column.name}`")
    for source in (record.values, record.defaults):
        for name, value in source.items():
            if name not in table.columns:
                raise MalformedPayload(f"{record.kind} record has no column {name!r}")
            if value is None:
                continue
            problem = _problem(table.columns[name], value)
            if problem:
                label = record.values.get("id") or record.values.get("work_item_id") or record.values.get("incident_id")
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
                raise MalformedPayload(f"{record.kind} {str(label)[:200]!r}: `{name}` {problem} (got {shown})")


def check_records(records: Iterable[FlowRecord]) -> list[FlowRecord]:
    """All records checked (the first bad one raises); returns them as a list."""
    records = list(records)
    for record in records:
        check_record(record)
    return records


def split_valid(records: Iterable[FlowRecord]) -> tuple[list[FlowRecord], list[str]]:
    """Records a table can hold, and why each other one cannot (pull sync skips those and says so)."""
    good, reasons = [], []
    for record in records:
        try:
            check_record(record)
        except MalformedPayload as error:
            reasons.append(str(error))
        else:
            good.append(record)
    return good, reasons
