"""Write and read stored entities: descriptor rows, their search rows and relations, in bulk."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from portal.catalog.bulk_write import (
    PreparedRows,
    body_digest,
    copy_payload,
    insert_tuples,
    new_etag,
    prepared_ahead,
    time_ordered_uid,
)
from portal.catalog import kept_counts
from portal.catalog.bulk_index import deferred_search_index
from portal.catalog.generation import bump_generation
from portal.catalog.kinds import relations_of
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.refs import DEFAULT_NAMESPACE, entity_ref_of
from portal.catalog.search_index import search_rows
from portal.db import sqlite_pragma_for_now

MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"
ORPHAN_ANNOTATION = "backstage.io/orphan"
BATCH_SIZE = 500
ENTITY_COLUMNS = ("uid", "entity_ref", "kind", "namespace", "name", "body", "errors", "location_key",
                  "origin_location_id", "source_line", "content_hash", "etag", "orphan", "created_at", "updated_at")
SEARCH_COLUMNS = ("entity_uid", "key", "value", "original_value", "kind")
IMPORT_CACHE_KIB = 262_144  # 256 MiB, only while a large import writes


@dataclass
class PreparedEntity:
    """A valid descriptor ready to store, with where it came from."""

    entity: dict
    location_key: str
    origin_location_key: str
    origin_location_id: str | None = None
    source_line: int | None = None
    errors: list[dict] = field(default_factory=list)


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # (entity ref, location key already holding it, location key that also claims it)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)

    def merged(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.inserted + other.inserted, self.updated + other.updated,
                           self.unchanged + other.unchanged, self.conflicts + other.conflicts)


def now() -> datetime:
    return datetime.now(UTC)


def _canonical(entity: dict, item: PreparedEntity) -> dict:
    """The stored form: default namespace filled in, managed-by annotations set, no uid/etag."""
    # Copies only the levels it changes: the rest is shared with `entity` and only ever read, and
    # the stored form is the JSON text of this dict (a full deep copy cost a tenth of an import).
    body = {key: value for key, value in entity.items() if key not in ("relations", "status")}
    metadata = body["metadata"] = dict(entity.get("metadata") or {})
    metadata.setdefault("namespace", DEFAULT_NAMESPACE)
    metadata.pop("uid", None)
    metadata.pop("etag", None)
    annotations = metadata["annotations"] = dict(metadata.get("annotations") or {})
    annotations[MANAGED_BY_LOCATION] = item.location_key
    annotations[MANAGED_BY_ORIGIN_LOCATION] = item.origin_location_key
    return body


def write_entities(session: Session, items: Sequence[PreparedEntity]) -> WriteResult:
    """Insert new and update changed entities; skip unchanged ones; report location conflicts."""
    by_ref: dict[str, PreparedEntity] = {}
    for item in items:
        by_ref[entity_ref_of(item.entity).key] = item  # a later duplicate wins
    pairs = list(by_ref.items())
    with large_import_cache(session, len(pairs)):
        return write_entity_batches(session, (pairs[i : i + BATCH_SIZE] for i in range(0, len(pairs), BATCH_SIZE)))


def write_entity_batches(session: Session, batches: Iterable[list[tuple[str, PreparedEntity]]]) -> WriteResult:
    """`write_entities` for batches of (ref, entity) arriving over time, e.g. while a location is still
    being read. Refs must not repeat across batches (a location tree never emits one twice)."""
    result = WriteResult()
    timestamp = now()

    def arguments(batch: list[tuple[str, PreparedEntity]]) -> tuple:
        # Read in the writing thread (a session is not shared across threads), just before the
        # batch is handed to the preparing thread.
        return batch, _stored(session, [ref for ref, _ in batch]), timestamp

    threaded = uses_threads(session)
    deltas: Counter = Counter()
    with deferred_search_index(session) as deferral:
        for rows in prepared_ahead(batches, lambda args: _prepare(*args, for_copy=threaded), arguments, threaded):
            deltas.update(_write(session, rows))
            result.inserted += len(rows.new_entities)
            result.updated += len(rows.changed_entities)
            result.unchanged += rows.unchanged
            result.conflicts += rows.conflicts
            deferral.written(len(rows.new_entities))
    if result.inserted or result.updated:
        bump_generation(session)
        kept_counts.apply(session, deltas)  # after the bump: see kept_counts
    return result


def uses_threads(session: Session) -> bool:
    """Whether large writes read and prepare in helper threads: yes on PostgreSQL, whose work happens
    in its own process; no on SQLite, whose row-by-row inserts retake the GIL for every row and
    crawl while another thread computes (a busy thread made them several times slower)."""
    return session.get_bind().dialect.name == "postgresql"


def _stored(session: Session, refs: list[str]) -> dict:
    return {
        row.entity_ref: row
        for row in session.execute(
            select(
                CatalogEntity.uid, CatalogEntity.entity_ref, CatalogEntity.content_hash,
                CatalogEntity.location_key, CatalogEntity.orphan,
            ).where(CatalogEntity.entity_ref.in_(refs))
        ).all()
    }


def _prepare(items: list[tuple[str, PreparedEntity]], existing: dict, timestamp: datetime,
             for_copy: bool = False) -> PreparedRows:
    """Rows for one batch; pure Python on its arguments, so it can run in the preparing thread."""
    rows = PreparedRows()
    for ref, item in items:
        body = _canonical(item.entity, item)
        body_json = json.dumps(body, separators=(",", ":"))
        digest = body_digest(body_json, item.errors)
        old = existing.get(ref)
        if old is not None and old.location_key != item.location_key:
            rows.conflicts.append((ref, old.location_key, item.location_key))
            continue
        if old is not None and old.content_hash == digest and not old.orphan:
            rows.unchanged += 1
            continue
        uid = old.uid if old is not None else time_ordered_uid()
        etag = new_etag()
        ref_obj = entity_ref_of(body)
        row = {
            "uid": uid, "entity_ref": ref, "kind": ref_obj.kind, "namespace": ref_obj.namespace,
            "name": ref_obj.name, "body": body_json,
            "errors": json.dumps(item.errors) if item.errors else None,
            "location_key": item.location_key, "origin_location_id": item.origin_location_id,
            "source_line": item.source_line, "content_hash": digest, "etag": etag,
            "orphan": False, "updated_at": timestamp,
        }
        if old is None:
            row["created_at"] = timestamp
            rows.new_entities.append(row)
        else:
            rows.changed_entities.append(row)
        indexed = dict(body)
        indexed["metadata"] = {**body["metadata"], "uid": uid, "etag": etag}
        kind = str(body["kind"]).lower()
        rows.search += [(uid, k, v, o, kind) for k, v, o in search_rows(indexed)]
        rows.relations += [(uid, s, t, d) for s, t, d in relations_of(body)]
    rows.facet_deltas = kept_counts.added_rows(rows.search)
    if for_copy:
        rows.search_payload = copy_payload(rows.search)
        rows.relations_payload = copy_payload(rows.relations)
    return rows


def _write(session: Session, rows: PreparedRows) -> Counter:
    """Write one prepared batch; returns its change to the facet counts (applied by the caller)."""
    deltas = Counter(rows.facet_deltas)
    if rows.changed_entities:
        uids = [row["uid"] for row in rows.changed_entities]
        deltas.update(kept_counts.removed_rows(session, uids))  # update() adds negative counts too
        session.execute(delete(CatalogSearch).where(CatalogSearch.entity_uid.in_(uids)))
        session.execute(delete(CatalogRelation).where(CatalogRelation.originating_uid.in_(uids)))
        for row in rows.changed_entities:
            session.execute(update(CatalogEntity).where(CatalogEntity.uid == row["uid"]).values(**row))
    if rows.new_entities and session.get_bind().dialect.name == "postgresql":
        # COPY here too: batched INSERTs of the entity rows cost a quarter of a PostgreSQL import.
        insert_tuples(session, "catalog_entities", ENTITY_COLUMNS,
                      [tuple(row[name] for name in ENTITY_COLUMNS) for row in rows.new_entities])
    elif rows.new_entities:
        session.execute(CatalogEntity.__table__.insert(), rows.new_entities)
    insert_tuples(session, "catalog_search", SEARCH_COLUMNS, rows.search,
                  rows.search_payload)
    insert_tuples(session, "catalog_relations", ("originating_uid", "source_ref", "type", "target_ref"),
                  rows.relations, rows.relations_payload)
    return deltas


@contextmanager
def large_import_cache(session: Session, count: int):  # noqa: ANN202
    """A big import on SQLite keeps the search indexes' pages in memory while it writes, then gives the
    memory back: index upkeep is most of an import's cost once the index outgrows the normal cache."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or count < BATCH_SIZE * 4:
        yield
        return
    with sqlite_pragma_for_now(connection, "cache_size", -IMPORT_CACHE_KIB):
        yield


def delete_entities(session: Session, uids: Iterable[str]) -> int:
    """Remove entities with their search rows and the relations they originated."""
    uids = list(uids)
    if not uids:
        return 0
    deltas = kept_counts.removed_rows(session, uids)
    session.execute(delete(CatalogSearch).where(CatalogSearch.entity_uid.in_(uids)))
    session.execute(delete(CatalogRelation).where(CatalogRelation.originating_uid.in_(uids)))
    deleted = session.execute(delete(CatalogEntity).where(CatalogEntity.uid.in_(uids))).rowcount
    bump_generation(session)
    kept_counts.apply(session, deltas)
    return deleted


def set_orphan(session: Session, uids: Iterable[str], orphan: bool = True) -> None:
    """Flag (or unflag) entities no longer emitted by their location; never deletes them."""
    uids = list(uids)
    if uids:
        session.execute(
            update(CatalogEntity).where(CatalogEntity.uid.in_(uids)).values(orphan=orphan, updated_at=now())
        )
        bump_generation(session)


def assemble(session: Session, rows: Sequence[CatalogEntity]) -> list[dict]:
    """Full API entities for stored rows: body + uid/etag + relations + status items."""
    refs = [row.entity_ref for row in rows]
    relations: dict[str, list[dict]] = {ref: [] for ref in refs}
    if refs:
        found = session.execute(
            select(CatalogRelation.source_ref, CatalogRelation.type, CatalogRelation.target_ref)
            .where(CatalogRelation.source_ref.in_(refs))
            .order_by(CatalogRelation.source_ref, CatalogRelation.type, CatalogRelation.target_ref)
        ).all()
        seen = set()
        for source, rel_type, target in found:
            if (source, rel_type, target) in seen:
                continue
            seen.add((source, rel_type, target))
            relations[source].append({"type": rel_type, "targetRef": target})
    return [entity_from_row(row, relations.get(row.entity_ref, [])) for row in rows]


def entity_from_row(row: CatalogEntity, relations: list[dict]) -> dict:
    """The API form of a stored entity (`row` is a model or a result row with the same column names)."""
    body = json.loads(row.body)
    metadata = body.setdefault("metadata", {})
    metadata["uid"] = row.uid
    metadata["etag"] = row.etag
    if row.orphan:
        metadata.setdefault("annotations", {})[ORPHAN_ANNOTATION] = "true"
    body["relations"] = relations
    if row.errors:
        body["status"] = {"items": json.loads(row.errors)}
    return body
