"""Write and read stored entities: descriptor rows, their search rows and relations, in bulk."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from portal.catalog.generation import bump_generation
from portal.catalog.kinds import relations_of
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.refs import DEFAULT_NAMESPACE, entity_ref_of
from portal.catalog.search_index import search_rows

MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"
ORPHAN_ANNOTATION = "backstage.io/orphan"
BATCH_SIZE = 500
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


def now() -> datetime:
    return datetime.now(UTC)


def _canonical(entity: dict, item: PreparedEntity) -> dict:
    """The stored form: default namespace filled in, managed-by annotations set, no uid/etag."""
    body = json.loads(json.dumps(entity))  # deep copy that also drops YAML-only types
    metadata = body.setdefault("metadata", {})
    metadata.setdefault("namespace", DEFAULT_NAMESPACE)
    metadata.pop("uid", None)
    metadata.pop("etag", None)
    annotations = metadata.setdefault("annotations", {})
    annotations[MANAGED_BY_LOCATION] = item.location_key
    annotations[MANAGED_BY_ORIGIN_LOCATION] = item.origin_location_key
    body.pop("relations", None)
    body.pop("status", None)
    return body


def _digest(body: dict, errors: list[dict]) -> str:
    text = json.dumps([body, errors], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_entities(session: Session, items: Sequence[PreparedEntity]) -> WriteResult:
    """Insert new and update changed entities; skip unchanged ones; report location conflicts."""
    result = WriteResult()
    with _large_page_cache(session, len(items)):
        for start in range(0, len(items), BATCH_SIZE):
            _write_batch(session, items[start : start + BATCH_SIZE], result)
    if result.inserted or result.updated:
        bump_generation(session)
    return result


def _write_batch(session: Session, items: Sequence[PreparedEntity], result: WriteResult) -> None:
    by_ref: dict[str, PreparedEntity] = {}
    for item in items:
        by_ref[entity_ref_of(item.entity).key] = item  # a later duplicate in one batch wins
    existing = {
        row.entity_ref: row
        for row in session.execute(
            select(
                CatalogEntity.uid, CatalogEntity.entity_ref, CatalogEntity.content_hash,
                CatalogEntity.location_key, CatalogEntity.orphan,
            ).where(CatalogEntity.entity_ref.in_(list(by_ref)))
        ).all()
    }
    timestamp = now()
    new_entities, changed, search, relations = [], [], [], []
    for ref, item in by_ref.items():
        body = _canonical(item.entity, item)
        digest = _digest(body, item.errors)
        old = existing.get(ref)
        if old is not None and old.location_key != item.location_key:
            result.conflicts.append((ref, old.location_key, item.location_key))
            continue
        if old is not None and old.content_hash == digest and not old.orphan:
            result.unchanged += 1
            continue
        uid = old.uid if old is not None else str(uuid.uuid4())
        etag = uuid.uuid4().hex
        ref_obj = entity_ref_of(body)
        row = {
            "uid": uid, "entity_ref": ref, "kind": ref_obj.kind, "namespace": ref_obj.namespace,
            "name": ref_obj.name, "body": json.dumps(body, separators=(",", ":")),
            "errors": json.dumps(item.errors) if item.errors else None,
            "location_key": item.location_key, "origin_location_id": item.origin_location_id,
            "source_line": item.source_line, "content_hash": digest, "etag": etag,
            "orphan": False, "updated_at": timestamp,
        }
        if old is None:
            row["created_at"] = timestamp
            new_entities.append(row)
            result.inserted += 1
        else:
            changed.append(row)
            result.updated += 1
        indexed = dict(body)
        indexed["metadata"] = {**body["metadata"], "uid": uid, "etag": etag}
        search += [(uid, k, v, o) for k, v, o in search_rows(indexed)]
        relations += [(uid, s, t, d) for s, t, d in relations_of(body)]
    if changed:
        uids = [row["uid"] for row in changed]
        session.execute(delete(CatalogSearch).where(CatalogSearch.entity_uid.in_(uids)))
        session.execute(delete(CatalogRelation).where(CatalogRelation.originating_uid.in_(uids)))
        for row in changed:
            session.execute(update(CatalogEntity).where(CatalogEntity.uid == row["uid"]).values(**row))
    if new_entities:
        session.execute(CatalogEntity.__table__.insert(), new_entities)
    _insert_tuples(session, "catalog_search", ("entity_uid", "key", "value", "original_value"), search)
    _insert_tuples(session, "catalog_relations", ("originating_uid", "source_ref", "type", "target_ref"), relations)


@contextmanager
def _large_page_cache(session: Session, count: int):  # noqa: ANN202
    """A big import on SQLite keeps the search indexes' pages in memory while it writes, then gives the
    memory back: index upkeep is most of an import's cost once the index outgrows the normal cache."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or count < BATCH_SIZE * 4:
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size={-IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")


def _insert_tuples(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert straight through the driver: these are the bulk of an import (~30 rows per entity),
    and SQLAlchemy's per-row parameter handling would cost as much as the database's own work."""
    if not rows:
        return
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    connection.exec_driver_sql(statement, rows)


def delete_entities(session: Session, uids: Iterable[str]) -> int:
    """Remove entities with their search rows and the relations they originated."""
    uids = list(uids)
    if not uids:
        return 0
    session.execute(delete(CatalogSearch).where(CatalogSearch.entity_uid.in_(uids)))
    session.execute(delete(CatalogRelation).where(CatalogRelation.originating_uid.in_(uids)))
    deleted = session.execute(delete(CatalogEntity).where(CatalogEntity.uid.in_(uids))).rowcount
    bump_generation(session)
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
