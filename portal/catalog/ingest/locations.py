"""Registered locations: register (or dry-run), refresh, delete and look up, like Backstage's /locations."""

from __future__ import annotations

import os.path
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import delete, select
from sqlmodel import Session

from portal.catalog.ingest.confinement import check_registrable_file
from portal.catalog.ingest.limits import ReadLimits
from portal.catalog.ingest.apply import apply_stream, chunks, generated_location_entity, load_cache, ref_key_of
from portal.catalog.ingest.problems import LocationError, LocationExistsError, RefreshReport, RegisterResult
from portal.catalog.ingest.reader import TreeRead, TreeReader
from portal.catalog.ingest.streaming import StreamedRead
from portal.catalog.ingest.sources import SUPPORTED_TYPES, SourceReader, check_url, location_key
from portal.catalog.kinds import relations_of
from portal.catalog.models import CatalogEntity, CatalogLocation, CatalogProcessingError, CatalogSource
from portal.catalog.refs import RefError, parse_ref
from portal.catalog.store import (
    BATCH_SIZE, MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION, assemble, uses_threads, delete_entities, now,
)
from portal.settings import Settings


def location_dict(row: CatalogLocation) -> dict:
    """Backstage's Location shape."""
    return {"id": row.id, "type": row.type, "target": row.target}


def normalize_target(type_: str, target: str, settings: Settings, confine_to_roots: bool = False) -> str:
    """Check a new location and return its stored target (absolute path for files).

    `confine_to_roots`: a file must lie inside FLOWPORT_FILE_LOCATION_ROOTS (targets sent through the API).
    """
    if type_ not in SUPPORTED_TYPES:
        raise LocationError(f"Unsupported location type {type_!r}; supported types are file and url")
    if not isinstance(target, str) or not target.strip():
        raise LocationError("A location needs a target")
    target = target.strip()
    if type_ == "file":
        if confine_to_roots:
            check_registrable_file(target, settings)
        if "\x00" in target:
            raise LocationError("A file location's path cannot contain a NUL byte")
        # `~` is the server user's home: expanded for the CLI and configured paths, never for the API,
        # where the path checked against the roots must be the path read.
        path = Path(target if confine_to_roots else os.path.expanduser(target)).resolve()
        if not path.exists():
            raise LocationError(f"File {path} does not exist")
        return str(path)
    refusal = check_url(target, settings.url_allow_hosts, tuple(settings.url_allow_private_networks))
    if refusal:
        raise LocationError(f"Cannot register {target}: {refusal}")
    return target


def read_location(session: Session, settings: Settings, http: httpx.Client | None,
                  type_: str, target: str, location_id: str | None) -> tuple[TreeRead, SourceReader]:
    """Read a location's whole tree, with the last good copies of its sources as fallback."""
    cache = load_cache(session, location_id) if location_id else {}
    reader = SourceReader(http, list(settings.url_allow_hosts), cache, limits=ReadLimits.from_settings(settings))
    return TreeReader(reader).read(location_key(type_, target)), reader


def stream_location(session: Session, settings: Settings, http: httpx.Client | None,
                    type_: str, target: str, location_id: str | None) -> tuple[StreamedRead, SourceReader]:
    """`read_location`, read in a background thread that hands entities over while it reads."""
    cache = load_cache(session, location_id) if location_id else {}
    reader = SourceReader(http, list(settings.url_allow_hosts), cache, limits=ReadLimits.from_settings(settings))
    threaded = uses_threads(session)
    return StreamedRead(TreeReader(reader), location_key(type_, target), BATCH_SIZE, threaded), reader


def _find(session: Session, target: str) -> CatalogLocation | None:
    return session.execute(select(CatalogLocation).where(CatalogLocation.target == target)).scalar_one_or_none()


def register_location(session: Session, settings: Settings, http: httpx.Client | None,
                      type: str, target: str, dry_run: bool = False,  # noqa: A002
                      on_progress: Callable[[int], None] | None = None,
                      confine_to_roots: bool = False) -> RegisterResult:
    """Register a file or URL and load its entities; with dry_run, read and validate only.
    `on_progress(n)`: entities handed to the store so far (see apply_stream); `confine_to_roots`: see
    normalize_target."""
    target = normalize_target(type, target, settings, confine_to_roots)
    existing = _find(session, target)
    if existing is not None and not dry_run:
        raise LocationExistsError(f"Location {type}:{target} already exists")
    if dry_run:
        tree, reader = read_location(session, settings, http, type, target, existing.id if existing else None)
        if tree.root_error:
            raise LocationError(f"Cannot read {type} location {tree.root_error}")
        location = location_dict(existing) if existing else {"id": str(uuid.uuid4()), "type": type, "target": target}
        entities = [_preview(e, location_key(type, target), location_key(type, target))
                    for e in [generated_location_entity(type, target)]]
        entities += [_preview(r.entity, r.location_key, location_key(type, target)) for r in tree.entities]
        # The problems a registration would record (a bad document, a YAML alias bomb, a refused target).
        preview = RefreshReport(location["id"], target, read=len(tree.entities), errors=list(tree.problems))
        return RegisterResult(location, entities, exists=existing is not None, report=preview)
    row = CatalogLocation(id=str(uuid.uuid4()), type=type, target=target, created_at=now())
    session.add(row)
    session.flush()
    stream, reader = stream_location(session, settings, http, type, target, None)
    try:
        report = apply_stream(session, row, stream, reader, refuse_unreadable_root=True, on_progress=on_progress)
    except LocationError:
        # Nothing else was written: an unreadable root yields no entities.
        session.delete(row)
        session.flush()
        raise
    refs = [ref_key_of(generated_location_entity(type, target))] + [r.ref for r in stream.tree().entities]
    # The entities are read back only when asked for (the API answers with them); a large import
    # through the CLI would spend a tenth of its time assembling a list nobody reads.
    return RegisterResult(location_dict(row), exists=False, report=report, entity_refs=refs)


def _preview(entity: dict, key: str, origin_key: str) -> dict:
    """An entity as it would be stored: namespace, managed-by annotations and relations filled in."""
    body = {**entity, "metadata": {**entity["metadata"]}}
    body["metadata"].setdefault("namespace", "default")
    body["metadata"]["annotations"] = {
        **(entity["metadata"].get("annotations") or {}),
        MANAGED_BY_LOCATION: key, MANAGED_BY_ORIGIN_LOCATION: origin_key,
    }
    me = ref_key_of(body)
    body["relations"] = [{"type": t, "targetRef": d} for s, t, d in relations_of(body) if s == me]
    return body


def registered_entities(session: Session, result: RegisterResult) -> list[dict]:
    """The entities a registration stored (or previewed), as the API returns them."""
    return _assembled(session, result.entity_refs) if result.entity_refs else result.entities


def _assembled(session: Session, refs: list[str]) -> list[dict]:
    entities: list[dict] = []
    for part in chunks(refs):
        rows = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref.in_(part))).scalars().all()
        order = {ref: index for index, ref in enumerate(part)}
        entities += assemble(session, sorted(rows, key=lambda row: order[row.entity_ref]))
    return entities


def refresh_location(session: Session, settings: Settings, http: httpx.Client | None,
                     location_id: str, on_progress: Callable[[int], None] | None = None) -> RefreshReport:
    """Read a registered location again and store the outcome (`on_progress` as in register_location)."""
    row = session.get(CatalogLocation, location_id)
    if row is None:
        raise LocationError(f"No location with id {location_id}")
    stream, reader = stream_location(session, settings, http, row.type, row.target, row.id)
    return apply_stream(session, row, stream, reader, on_progress=on_progress)


def refresh_all(session: Session, settings: Settings, http: httpx.Client | None) -> list[RefreshReport]:
    """Refresh every registered location in one session (the caller owns the transaction)."""
    ids = session.execute(select(CatalogLocation.id).order_by(CatalogLocation.created_at)).scalars().all()
    return [refresh_location(session, settings, http, location_id) for location_id in ids]


def refresh_entity(session: Session, settings: Settings, http: httpx.Client | None,
                   entity_ref: str) -> RefreshReport | None:
    """Refresh the location an entity came from; None when the entity is unknown or unmanaged."""
    location = location_of_entity(session, entity_ref)
    if location is None:
        return None
    return refresh_location(session, settings, http, location["id"])


def delete_location(session: Session, location_id: str) -> bool:
    """Remove a location and every entity whose origin it is, as Backstage does."""
    row = session.get(CatalogLocation, location_id)
    if row is None:
        return False
    uids = session.execute(
        select(CatalogEntity.uid).where(CatalogEntity.origin_location_id == location_id)
    ).scalars().all()
    for part in chunks(list(uids)):
        delete_entities(session, part)
    session.execute(delete(CatalogProcessingError).where(CatalogProcessingError.origin_location_id == location_id))
    session.execute(delete(CatalogSource).where(CatalogSource.origin_location_id == location_id))
    session.delete(row)
    session.flush()
    return True


def list_locations(session: Session) -> list[dict]:
    rows = session.execute(select(CatalogLocation).order_by(CatalogLocation.target)).scalars().all()
    return [location_dict(row) for row in rows]


def get_location(session: Session, id: str) -> dict | None:  # noqa: A002
    row = session.get(CatalogLocation, id)
    return location_dict(row) if row is not None else None


def location_of_entity(session: Session, entity_ref: str) -> dict | None:
    """The registered location an entity originates from (Backstage's GET /locations/by-entity)."""
    try:
        key = parse_ref(entity_ref).key
    except RefError:
        return None
    origin = session.execute(
        select(CatalogEntity.origin_location_id).where(CatalogEntity.entity_ref == key)
    ).scalar_one_or_none()
    return get_location(session, origin) if origin else None
