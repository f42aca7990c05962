"""Bulk row writing: COPY payloads for PostgreSQL and the rows they store."""

from sqlalchemy import select

from portal.catalog.bulk_write import copy_payload, insert_tuples
from portal.catalog.models import CatalogSearch

TRICKY = [
    ("uid-1", "metadata.description", "tab\there", "Tab\tHere"),
    ("uid-1", "spec.path", "c:\\temp\\new", "C:\\Temp\\New"),
    ("uid-2", "metadata.title", "two\nlines\r\n", "Two\nLines\r\n"),
    ("uid-2", "metadata.annotations.x", None, None),
    ("uid-3", "metadata.name", "ünïcødé \\N", "ÜnÏcødé \\N"),
]


def test_a_payload_escapes_what_copy_text_format_requires():
    payload = copy_payload(TRICKY[:2] + [TRICKY[3]])
    assert payload == (
        "uid-1\tmetadata.description\ttab\\there\tTab\\tHere\n"
        "uid-1\tspec.path\tc:\\\\temp\\\\new\tC:\\\\Temp\\\\New\n"
        "uid-2\tmetadata.annotations.x\t\\N\t\\N\n"
    )


def test_values_that_are_not_text_or_hold_a_stand_in_character_get_no_payload():
    assert copy_payload([("uid", "key", 3, None)]) is None
    assert copy_payload([("uid", "key", "a\x1fb", None)]) is None
    assert copy_payload([("uid", "key", "a\x1db", "x")]) is None
    assert copy_payload([]) == ""


def test_rows_read_back_exactly_as_written(session):
    columns = ("entity_uid", "key", "value", "original_value")
    # PostgreSQL is sent the payload (COPY); SQLite inserts the tuples. Both must store the same.
    payload = copy_payload(TRICKY) if session.get_bind().dialect.name == "postgresql" else None
    insert_tuples(session, "catalog_search", columns, TRICKY, payload)
    insert_tuples(session, "catalog_search", columns, TRICKY)  # row by row on both
    stored = session.execute(select(CatalogSearch.entity_uid, CatalogSearch.key, CatalogSearch.value,
                                    CatalogSearch.original_value)).all()
    def order(row): return tuple(value or '' for value in row)
    assert sorted(map(tuple, stored), key=order) == sorted(TRICKY + TRICKY, key=order)
