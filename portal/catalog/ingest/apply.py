"""Turn a location tree read into stored state: entities, conflicts, orphans, errors, last good copies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from portal.catalog.ingest.problems import LocationError, Problem, RefreshReport
from portal.catalog.ingest.reader import ReadEntity, TreeRead
from portal.catalog.ingest.sources import CachedSource, SourceReader, content_digest, display_name, location_key
from portal.catalog.models import CatalogEntity, CatalogLocation, CatalogProcessingError, CatalogSource
from portal.catalog.ingest.streaming import StreamedRead
from portal.catalog.store import (
    PreparedEntity,
    WriteResult,
    large_import_cache,
    now,
    set_orphan,
    write_entities,
    write_entity_batches,
)

CHUNK = 500
# A streamed read's size is unknown until it ends: assume a large one (the cache is only used if filled).
STREAMED_SIZE_HINT = 1_000_000


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def generated_location_entity(type_: str, target: str) -> dict:
    """The Location entity Backstage emits for a registered location, named by the key's SHA-1."""
    digest = hashlib.sha1(f"{type_}:{target}".encode()).hexdigest()  # noqa: S324 - a name, not security
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": f"generated-{digest}", "namespace": "default"},
        "spec": {"type": type_, "target": target},
    }


def status_item(problem: Problem) -> dict:
    """A problem in Backstage's `status.items` shape."""
    return {
        "type": "backstage.io/catalog-processing",
        "level": "error",
        "message": f"InputError: {problem}",
        "error": {"name": "InputError", "message": str(problem)},
    }


def load_cache(session: Session, location_id: str) -> dict[str, CachedSource]:
    rows = session.execute(
        select(CatalogSource.key, CatalogSource.content, CatalogSource.etag, CatalogSource.fetched_at)
        .where(CatalogSource.origin_location_id == location_id)
    ).all()
    return {row.key: CachedSource(row.content, row.etag, row.fetched_at) for row in rows}


def prepare(tree: TreeRead, location: CatalogLocation) -> list[PreparedEntity]:
    """The generated Location entity and every valid entity, with errors that name it attached."""
    origin_key = location_key(location.type, location.target)
    problems_by_entity: dict[tuple[str, str], list[dict]] = {}
    for problem in tree.problems:
        if problem.entity and problem.location_key:
            problems_by_entity.setdefault((problem.location_key, problem.entity), []).append(status_item(problem))
    root_errors = [status_item(p) for p in tree.problems if p.location_key == origin_key and p.entity is None]
    items = [PreparedEntity(generated_location_entity(location.type, location.target), origin_key,
                            origin_key, location.id, None, root_errors if tree.root_error else [])]
    for read in tree.entities:
        errors = problems_by_entity.get((read.location_key, read.ref), [])
        items.append(PreparedEntity(read.entity, read.location_key, origin_key, location.id, read.line, errors))
    return items


def apply_stream(session: Session, location: CatalogLocation, stream: StreamedRead,
                 reader: SourceReader, refuse_unreadable_root: bool = False,
                 on_progress: Callable[[int], None] | None = None) -> RefreshReport:
    """Store a tree while it is being read: entities are written batch by batch as they arrive, then
    `apply_tree` finishes with what needs the whole tree (Location entities, errors, orphans).
    `on_progress(n)` is called in this thread as each batch is taken, with the entities taken so far."""
    origin_key = location_key(location.type, location.target)
    streamed: set[str] = set()

    def pairs(batch: list[ReadEntity]) -> list[tuple[str, PreparedEntity]]:
        out = [(ref_key_of(read.entity), PreparedEntity(read.entity, read.location_key, origin_key, location.id,
                                                        read.line)) for read in batch]
        streamed.update(ref for ref, _ in out)
        if on_progress is not None:
            on_progress(len(streamed))
        return out

    with large_import_cache(session, STREAMED_SIZE_HINT):
        early = write_entity_batches(session, (pairs(batch) for batch in stream.batches()))
    tree = stream.tree()
    if refuse_unreadable_root and tree.root_error:
        raise LocationError(f"Cannot read {location.type} location {tree.root_error}")
    return apply_tree(session, location, tree, reader, early, streamed)


def apply_tree(session: Session, location: CatalogLocation, tree: TreeRead, reader: SourceReader,
               early: WriteResult | None = None, streamed: set[str] | frozenset = frozenset()) -> RefreshReport:
    """Store what a refresh read; never deletes, only flags orphans when their source was read cleanly.

    `early` and `streamed` are what `apply_stream` already wrote; such an entity is written again
    only if problems found later in the read now name it.
    """
    origin_key = location_key(location.type, location.target)
    items = prepare(tree, location) + _kept_invalid(session, tree, origin_key, location.id)
    result = write_entities(session, [item for item in items
                                      if item.errors or ref_key_of(item.entity) not in streamed])
    if early is not None:
        result = early.merged(result)
    problems = list(tree.problems)
    lines = {ref_key_of(item.entity): item.source_line for item in items}
    for ref, held_by, claimed_by in result.conflicts:
        problems.append(Problem(
            display_name(claimed_by), lines.get(ref), ref, None,
            f"Detected conflicting entityRef {ref} already referenced by {held_by} and now also {claimed_by}",
            location_key=claimed_by))
    conflicting = {ref for ref, _, _ in result.conflicts}
    emitted = {ref_key_of(item.entity) for item in items} - conflicting
    orphaned = _flag_orphans(session, location.id, tree, emitted)
    _replace_errors(session, location.id, problems)
    _store_sources(session, location.id, reader)
    root_problems = [p.message for p in tree.problems if p.location_key == origin_key and p.entity is None]
    session.execute(update(CatalogLocation).where(CatalogLocation.id == location.id)
                    .values(last_refreshed_at=now(), last_error=tree.root_error or "; ".join(root_problems) or None))
    return RefreshReport(
        location_id=location.id, target=location.target,
        read=len(tree.entities) + len(tree.invalid), inserted=result.inserted, updated=result.updated,
        unchanged=result.unchanged, orphaned=orphaned, errors=problems,
    )


def ref_key_of(entity: dict) -> str:
    """The lower-cased `kind:namespace/name` of a valid descriptor."""
    metadata = entity["metadata"]
    return f"{entity['kind']}:{metadata.get('namespace') or 'default'}/{metadata['name']}".lower()


def _kept_invalid(session: Session, tree: TreeRead, origin_key: str, location_id: str) -> list[PreparedEntity]:
    """Stored good copies of entities that are now invalid, re-written with the errors attached."""
    by_ref = {item.ref: item for item in tree.invalid if item.ref}
    kept: list[PreparedEntity] = []
    for refs in chunks(list(by_ref)):
        rows = session.execute(
            select(CatalogEntity.entity_ref, CatalogEntity.body, CatalogEntity.location_key,
                   CatalogEntity.source_line).where(CatalogEntity.entity_ref.in_(refs))
        ).all()
        for row in rows:
            invalid = by_ref[row.entity_ref]
            if row.location_key != invalid.location_key:
                continue  # someone else's entity: the problem row is enough
            errors = [status_item(problem) for problem in invalid.problems]
            kept.append(PreparedEntity(json.loads(row.body), row.location_key, origin_key, location_id,
                                       row.source_line, errors))
    return kept


def _flag_orphans(session: Session, location_id: str, tree: TreeRead, emitted: set[str]) -> int:
    rows = session.execute(
        select(CatalogEntity.uid, CatalogEntity.entity_ref, CatalogEntity.location_key)
        .where(CatalogEntity.origin_location_id == location_id, CatalogEntity.orphan.is_(False))
    ).all()
    complete = tree.complete
    gone = [
        row.uid for row in rows
        if row.entity_ref not in emitted
        and (row.location_key in tree.clean or (complete and row.location_key not in tree.visited))
    ]
    set_orphan(session, gone)
    return len(gone)


def _replace_errors(session: Session, location_id: str, problems: list[Problem]) -> None:
    session.execute(delete(CatalogProcessingError).where(CatalogProcessingError.origin_location_id == location_id))
    timestamp = now()
    rows = [
        {"origin_location_id": location_id, "location_key": p.location_key or f"file:{p.file}",
         "line": p.line, "entity_ref": p.entity, "field": p.field, "message": p.message,
         "created_at": timestamp}
        for p in problems
    ]
    for part in chunks(rows):
        session.execute(insert(CatalogProcessingError), list(part))


def _store_sources(session: Session, location_id: str, reader: SourceReader) -> None:
    """Keep each source's last good copy; only changed contents are written."""
    timestamp = now()
    uncached = [key for key in reader.fresh if key not in reader.cache]
    # A source first read through another location already has a row: update it, don't insert.
    elsewhere: set[str] = set()
    for keys in chunks(uncached):
        elsewhere.update(session.execute(select(CatalogSource.key).where(CatalogSource.key.in_(keys))).scalars())
    for key, content in reader.fresh.items():
        digest = content_digest(content)
        cached = reader.cache.get(key)
        if cached is not None and cached.etag == digest:
            continue
        values = {"origin_location_id": location_id, "content": content, "etag": digest,
                  "fetched_at": timestamp, "last_error": None}
        if cached is None and key not in elsewhere:
            session.execute(insert(CatalogSource).values(key=key, **values))
        else:
            session.execute(update(CatalogSource).where(CatalogSource.key == key).values(**values))
