"""A large write into an empty catalog drops the key/value search index and builds it again, and the
catalog answers the same as a write that kept it; a failing write never leaves the index missing."""

import os

import pytest
from sqlalchemy import inspect
from sqlmodel import Session

from portal.catalog import bulk_index
from portal.catalog.query import EntityQuery, entity_facets, query_entities
from portal.catalog.query_filters import parse_filter_params
from portal.catalog.store import BATCH_SIZE, PreparedEntity, write_entities


def component(name: str, kind: str = "Component") -> PreparedEntity:
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, "tags": ["java"]},
              "spec": {"type": "service" if name.endswith("0") else "website", "lifecycle": "production",
                       "owner": "team-a"}}
    return PreparedEntity(entity, "file:/c.yaml", "file:/c.yaml")


def has_index(session) -> bool:
    """True when every deferred index is there, False when none is (a mix fails the test)."""
    inspector = inspect(session.connection())
    names = {index["name"] for table in ("catalog_search", "catalog_relations") for index in inspector.get_indexes(table)}
    present = {name in names for name in bulk_index.DEFERRED_INDEXES}
    assert len(present) == 1, f"only some deferred indexes exist: {names}"
    return present.pop()


@pytest.fixture
def drops(monkeypatch) -> list[int]:
    """Deferral after one batch instead of 5,000 entities; records every drop."""
    monkeypatch.setattr(bulk_index, "DEFER_AFTER_ENTITIES", BATCH_SIZE)
    seen: list[int] = []
    real = bulk_index.SearchIndexDeferral.written

    def recording(self, new_entities):
        real(self, new_entities)
        if self.dropped and not seen:
            seen.append(self.added)

    monkeypatch.setattr(bulk_index.SearchIndexDeferral, "written", recording)
    return seen


def answers(session) -> tuple:
    filters = parse_filter_params(["kind=component,spec.type=service"])
    # Ordered by name: the default order is by uid, and uids made in one millisecond are in random order.
    page = query_entities(session, EntityQuery(filters=filters, limit=5, order_fields=[("metadata.name", "desc")]))
    # Relation rows have deferred indexes too: a relation filter reads them.
    owned = query_entities(session, EntityQuery(filters=parse_filter_params(["relations.ownedBy=group:default/team-a"]),
                                                 limit=3, order_fields=[("metadata.name", "asc")]))
    return page.total_items, [item["metadata"]["name"] for item in page.items], entity_facets(
        session, ["spec.type", "metadata.name"], parse_filter_params(["kind=component"])), \
        owned.total_items, [(item["metadata"]["name"], item["relations"]) for item in owned.items]


def test_a_large_first_write_builds_the_index_at_the_end(session, drops):
    write_entities(session, [component(f"svc-{n:04d}") for n in range(BATCH_SIZE * 3)])
    assert drops == [BATCH_SIZE]  # dropped after the first batch, once
    assert has_index(session)
    assert answers(session)[0] == BATCH_SIZE * 3 // 10


def test_a_write_that_is_small_next_to_the_catalog_keeps_the_index(session, drops):
    write_entities(session, [component(f"old-{n:04d}") for n in range(BATCH_SIZE * 3)])
    session.commit()
    drops.clear()
    write_entities(session, [component(f"new-{n:04d}") for n in range(BATCH_SIZE)])
    assert drops == []
    assert has_index(session)


def test_the_catalog_answers_the_same_with_and_without_deferral(engine, drops, monkeypatch):
    items = [component(f"svc-{n:04d}") for n in range(BATCH_SIZE * 2 + 13)]
    with Session(engine) as session:
        write_entities(session, items)
        session.commit()
        deferred = answers(session)
    assert drops
    from tests.conftest import _empty_all_tables
    _empty_all_tables(engine)
    monkeypatch.setattr(bulk_index, "DEFER_AFTER_ENTITIES", 10**9)
    with Session(engine) as session:
        write_entities(session, items)
        session.commit()
        assert answers(session) == deferred


def test_a_write_failing_after_the_drop_leaves_the_index_in_place(engine, drops, monkeypatch):
    from portal.catalog import store

    real = store._write
    calls = []

    def failing_third_batch(session, rows):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(session, rows)

    monkeypatch.setattr(store, "_write", failing_third_batch)
    with Session(engine) as session:
        with pytest.raises(RuntimeError, match="disk full"):
            write_entities(session, [component(f"svc-{n:04d}") for n in range(BATCH_SIZE * 4)])
        assert drops  # the index was gone when the write failed…
        # …and whether the caller commits what was written or rolls back, the index is there.
        session.commit()
        assert has_index(session)


def test_sqlite_builds_the_index_with_sorter_threads_and_gives_the_connection_back_unchanged(session):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("sorter threads are SQLite's")
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA threads").scalar_one()
    with bulk_index.sqlite_sorter_threads(connection):
        during = connection.exec_driver_sql("PRAGMA threads").scalar_one()
    assert during == min(os.cpu_count() or 1, bulk_index.MAX_SORTER_THREADS)
    assert connection.exec_driver_sql("PRAGMA threads").scalar_one() == before
