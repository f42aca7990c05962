"""Opaque paging cursors for /entities/by-query: base64url JSON of everything needed to continue."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field

from portal.catalog.query_filters import FilterGroup, validate_filters
from portal.errors import CatalogApiError
from portal.web.input_checks import json_has_nul

CURSOR_VERSION = 1


@dataclass
class Cursor:
    """Where a page starts: the query itself plus the sort position (value, uid) of a boundary row."""

    filters: list[FilterGroup] = field(default_factory=list)
    order_fields: list[tuple[str, str]] = field(default_factory=list)
    full_text_term: str | None = None
    full_text_fields: list[str] | None = None
    # Sort position of the row to continue after (see query_paging.read_rows); the uid is last.
    position: list[str | None] = field(default_factory=list)
    # Position of the very first row of the first page, so the first page has no prevCursor.
    first_position: list[str | None] = field(default_factory=list)
    backwards: bool = False
    total_items: int | None = None


def encode_cursor(cursor: Cursor) -> str:
    """Serialize a cursor into a URL-safe token."""
    payload = {"v": CURSOR_VERSION, **asdict(cursor)}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _fail() -> CatalogApiError:
    return CatalogApiError(400, "Malformed cursor, could not be parsed; start again without a cursor")


def decode_cursor(token: str) -> Cursor:
    """Parse a token made by encode_cursor; anything else is a 400 InputError."""
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode())
        if json_has_nul(raw):  # a NUL hidden in a cursor would reach PostgreSQL, which cannot compare it
            raise ValueError("NUL in cursor")
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested 1,000 deep
        raise _fail() from None
    if not isinstance(payload, dict) or payload.pop("v", None) != CURSOR_VERSION:
        raise _fail()
    try:
        cursor = Cursor(**payload)
    except TypeError:
        raise _fail() from None
    validate_filters(cursor.filters)
    order_ok = isinstance(cursor.order_fields, list) and all(
        isinstance(o, list) and len(o) == 2 and isinstance(o[0], str) and o[1] in ("asc", "desc")
        for o in cursor.order_fields
    )
    positions_ok = all(
        isinstance(p, list) and len(p) <= 3 and all(v is None or isinstance(v, str) for v in p)
        for p in (cursor.position, cursor.first_position)
    )
    total_ok = cursor.total_items is None or (
        isinstance(cursor.total_items, int) and not isinstance(cursor.total_items, bool)
    )
    text_ok = (cursor.full_text_term is None or isinstance(cursor.full_text_term, str)) and (
        cursor.full_text_fields is None
        or (isinstance(cursor.full_text_fields, list) and all(isinstance(f, str) for f in cursor.full_text_fields))
    )
    if not (order_ok and positions_ok and total_ok and text_ok and isinstance(cursor.backwards, bool)
            and cursor.position):
        raise _fail()
    cursor.order_fields = [(name, direction) for name, direction in cursor.order_fields]
    return cursor
