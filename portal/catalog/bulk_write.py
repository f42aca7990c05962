"""The heavy half of storing entities: preparing rows and sending them in bulk.

An import spends its time in two places of about equal size: Python turning descriptors into rows
(canonical JSON, digests, ~25 search rows and ~7 relation rows per entity) and the database adding
those rows to its indexes. On PostgreSQL the second happens in the server's own process, so batch
n+1 is prepared in a helper thread while batch n is sent. SQLite works inside this process and
retakes the GIL for every row it inserts, so there the batches are prepared and written in turn.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from sqlmodel import Session

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
_END = object()


def time_ordered_uid() -> str:
    """A version 7 UUID (RFC 9562): creation time first, then random bits.

    New entities then land at the end of every index keyed by uid instead of on a random page,
    which keeps a large import's index upkeep sequential (a fifth faster on both databases).
    """
    millis = time.time_ns() // 1_000_000
    # Uniqueness, not secrecy, is needed; os.urandom's system call would give up the GIL per entity,
    # which the preparing thread pays for dearly. `random` reseeds itself in a forked child.
    random_bits = random.getrandbits(80)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (random_bits >> 62 & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= random_bits & ((1 << 62) - 1)  # rand_b
    return str(uuid.UUID(int=value))


def new_etag() -> str:
    """A fresh etag: 128 random bits as hex, like uuid4().hex without the system call."""
    return f"{random.getrandbits(128):032x}"


def body_digest(body_json: str, errors: list[dict]) -> str:
    """Content hash of a stored entity: its JSON text (key order as written) and its problems."""
    digest = hashlib.sha256(body_json.encode())
    if errors:
        digest.update(json.dumps(errors, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass
class PreparedRows:
    """One batch ready to write: entity rows (new and changed) and the index rows that go with them."""

    new_entities: list[dict] = field(default_factory=list)
    changed_entities: list[dict] = field(default_factory=list)
    search: list[tuple] = field(default_factory=list)
    relations: list[tuple] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)
    # Changes to the kept facet counts from the new search rows (portal/catalog/kept_counts.py).
    facet_deltas: Counter = field(default_factory=Counter)
    # The same search and relation rows as COPY text, when prepared for PostgreSQL.
    search_payload: str | None = None
    relations_payload: str | None = None


def prepared_ahead(batches: Iterable[T], prepare: Callable[[A], R], arguments: Callable[[T], A],
                   threaded: bool = True) -> Iterator[R]:
    """`prepare(arguments(batch))` for each batch, in order; the next batch is prepared in a thread
    while the caller writes the current one. `arguments` runs in the caller's thread (it may read the
    database); `prepare` must not touch the session. A single batch is prepared inline."""
    if not threaded:
        yield from (prepare(arguments(batch)) for batch in batches)
        return
    batches = iter(batches)
    first = next(batches, _END)
    if first is _END:
        return
    second = next(batches, _END)
    if second is _END:
        yield prepare(arguments(first))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-prepare") as pool:
        pending = pool.submit(prepare, arguments(first))
        for following in itertools.chain([second], batches):
            ready = pending.result()
            pending = pool.submit(prepare, arguments(following))
            yield ready
        yield pending.result()


# Stand-ins while a COPY payload is assembled; a value holding one of them is caught by the counts.
_FIELD, _ROW, _NULL = "\x1f", "\x1e", "\x1d"


def copy_payload(rows: list[tuple]) -> str | None:
    """Rows of text (or None) as PostgreSQL COPY text, built with a few whole-string operations.

    Far cheaper than formatting row by row, and done in the preparing thread, so the writing thread
    only sends it. None when a value is not text or holds one of the stand-in characters.
    """
    if not rows:
        return ""
    try:
        text = _ROW.join([_FIELD.join([_NULL if value is None else value for value in row]) for row in rows])
    except TypeError:
        return None
    nulls = sum(row.count(None) for row in rows)
    if (text.count(_FIELD) != len(rows) * (len(rows[0]) - 1) or text.count(_ROW) != len(rows) - 1
            or text.count(_NULL) != nulls):
        return None
    escaped = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return escaped.replace(_FIELD, "\t").replace(_ROW, "\n").replace(_NULL, "\\N") + "\n"


def insert_tuples(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple],
                  payload: str | None = None) -> None:
    """Bulk insert straight through the driver: these are most of an import's rows, and SQLAlchemy's
    per-row parameter handling would cost as much as the database's own work.

    PostgreSQL gets COPY (about four times faster than batched INSERTs there); SQLite, where an
    INSERT is a library call, gets executemany.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            if payload is not None:
                copy.write(payload)
            else:
                for row in rows:
                    copy.write_row(row)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    connection.exec_driver_sql(statement, rows)
