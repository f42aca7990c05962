"""Streamed reads: a location tree is written while it is still being read, with the same outcome."""

import threading

import pytest
from sqlalchemy import func, select

from portal.catalog.ingest import refresh_location, register_location
from portal.catalog.ingest.reader import TreeReader
from portal.catalog.ingest.sources import SourceReader, location_key
from portal.catalog.ingest.streaming import StreamedRead
from portal.catalog.models import CatalogEntity
from tests.catalog.test_ingest_locations import GROUP, component, location, no_network, write


def catalog_tree(root, files: int, per_file: int):
    targets = []
    for number in range(files):
        docs = [component(f"svc-{number}-{n}") for n in range(per_file)]
        targets.append(write(root / f"part-{number}.yaml", *docs).name)
    return write(root / "all.yaml", GROUP, location("everything", *[f"./{name}" for name in targets], "./missing.yaml"))


def test_a_streamed_registration_stores_every_entity_and_the_location_keeps_its_late_error(
        session, settings, tmp_path):
    root = catalog_tree(tmp_path, files=6, per_file=250)  # several batches of 500
    result = register_location(session, settings, no_network(), "file", str(root))
    session.commit()
    stored = session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()
    assert stored == 6 * 250 + 3  # components, the group, the Location and the generated location
    assert result.report.inserted == stored and result.report.updated == 0
    # The missing target is found after the Location entity was read: its status still names it.
    location = session.execute(select(CatalogEntity).where(
        CatalogEntity.entity_ref == "location:default/everything")).scalar_one()
    assert "missing.yaml" in (location.errors or "")

    again = refresh_location(session, settings, no_network(), result.location["id"])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, stored)


def test_a_reading_failure_reaches_the_writer_and_the_thread_ends(tmp_path, monkeypatch):
    root = catalog_tree(tmp_path, files=3, per_file=400)
    reader = TreeReader(SourceReader(None, [], {}))
    original = reader._read_document
    seen = []

    def failing(document, key, lines):
        seen.append(key)
        if len(seen) == 900:
            raise RuntimeError("reader broke")
        return original(document, key, lines)

    monkeypatch.setattr(reader, "_read_document", failing)
    stream = StreamedRead(reader, location_key("file", str(root)), 100)
    with pytest.raises(RuntimeError, match="reader broke"):
        for _ in stream.batches():
            pass
    assert not any(t.name == "catalog-read" and t.is_alive() for t in threading.enumerate())


def test_a_writer_that_stops_early_stops_the_reader(tmp_path):
    root = catalog_tree(tmp_path, files=4, per_file=300)
    stream = StreamedRead(TreeReader(SourceReader(None, [], {})), location_key("file", str(root)), 10)
    batches = stream.batches()
    first = next(batches)
    assert len(first) == 10
    batches.close()  # what a failing write does to the generator
    assert not any(t.name == "catalog-read" and t.is_alive() for t in threading.enumerate())


def test_progress_is_reported_as_batches_are_taken_and_ends_at_every_streamed_entity(session, settings, tmp_path):
    root = catalog_tree(tmp_path, files=3, per_file=400)
    reported: list[int] = []
    result = register_location(session, settings, no_network(), "file", str(root), on_progress=reported.append)
    assert len(reported) >= 3 and reported == sorted(reported)
    assert reported[-1] == 3 * 400 + 1  # the components and the group; Location entities are written last

    again: list[int] = []
    refresh_location(session, settings, no_network(), result.location["id"], on_progress=again.append)
    assert again[-1] == reported[-1]
