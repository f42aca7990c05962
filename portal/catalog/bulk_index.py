"""A large write into a small catalog builds its randomly ordered indexes once, at the end.

Keeping ix_catalog_search_key_value up to date row by row is a random insert per search row (25 per
entity); building it from the finished table is one sort. Loading 100,000 entities into an empty
catalog took 80 s with the index kept and 59 + 7 s with it dropped and built again (SQLite; 88 vs
63 + 8 s on PostgreSQL). The relation table's indexes by (type, target) and by source are random
inserts too (7 relation rows per entity); deferring them as well took a further 2 s off a 40 s SQLite
import (building them costs 1.1 s). So once a write has added more entities than the catalog held
before it (and at least DEFER_AFTER_ENTITIES), these indexes are dropped in the write's transaction
and built again before the write returns. The indexes that lead with an entity's uid stay: new uids
are time-ordered, so those inserts append, and the write itself deletes by them.

Readers are not affected on SQLite: in WAL mode they keep reading the last committed catalog, indexes
included, until the write commits. On PostgreSQL DROP INDEX locks the table against readers until
commit, so there it is done only when the catalog was empty before the write (the first load).
If the write fails, the indexes are built again where the transaction still can; where it cannot (an
aborted PostgreSQL transaction), rolling it back restores them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Index, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.db import sqlite_pragma_for_now

DEFER_AFTER_ENTITIES = 5_000
DEFERRED_INDEXES = ("ix_catalog_search_key_value", "ix_catalog_relations_type_target", "ix_catalog_relations_source_type_target")
# More sorter threads than two measured no faster (2.7 s with two, 2.9 s with four).
MAX_SORTER_THREADS = 2
log = logging.getLogger(__name__)


def deferred_indexes() -> list[Index]:
    indexes = {index.name: index for model in (CatalogSearch, CatalogRelation) for index in model.__table__.indexes}
    return [indexes[name] for name in DEFERRED_INDEXES]


class SearchIndexDeferral:
    """Watches a write's new entities and drops the key/value index once the write is large enough."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.added = 0
        self.decided = False
        self.dropped = False

    def written(self, new_entities: int) -> None:
        """Called after each batch with how many entities it inserted."""
        self.added += new_entities
        if self.decided or self.added < DEFER_AFTER_ENTITIES:
            return
        self.decided = True  # asked once per write: the count below reads the whole entity table
        stored = self.session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()
        before = stored - self.added
        if before == 0 or (not self.postgres and before <= self.added):
            for index in deferred_indexes():
                index.drop(self.session.connection())
            self.dropped = True
            log.info("indexes %s dropped until the write ends: %d new entities, %d before",
                     ", ".join(DEFERRED_INDEXES), self.added, before)

    def rebuild(self) -> None:
        if not self.dropped:
            return
        connection = self.session.connection()
        if self.postgres:
            # A sort of 2.5 million index rows; the default 64 MB spills it to disk.
            connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for index in deferred_indexes():
                index.create(connection)
        else:
            with sqlite_sorter_threads(connection):
                for index in deferred_indexes():
                    index.create(connection)
        self.dropped = False
        log.info("indexes %s built again after %d new entities", ", ".join(DEFERRED_INDEXES), self.added)


def sqlite_sorter_threads(connection: Connection) -> AbstractContextManager[None]:
    """Let SQLite's sorter use helper threads for one statement (a CREATE INDEX). Building the index of
    100,000 entities took 4.1 s on one thread and 2.7 s with two; the parsing worker is done by then."""
    return sqlite_pragma_for_now(connection, "threads", min(os.cpu_count() or 1, MAX_SORTER_THREADS))


@contextmanager
def deferred_search_index(session: Session) -> Iterator[SearchIndexDeferral]:
    deferral = SearchIndexDeferral(session)
    try:
        yield deferral
    except BaseException:
        if deferral.dropped:
            try:
                deferral.rebuild()
            except DBAPIError:
                pass  # an aborted transaction: its rollback brings the index back
        raise
    deferral.rebuild()
