"""Backstage-compatible location routes: list, register (or dry-run), read, delete, look up by entity."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from portal.auth.identity import CurrentUser, authorize
from portal.catalog.api_params import JsonObject, bool_param
from portal.catalog.refs import EntityRef
from portal.db import SessionDep
from portal.errors import CatalogApiError

router = APIRouter()


def _ingest():
    # Imported when used so this module loads even while ingestion is being built or fails to import.
    from portal.catalog import ingest

    return ingest


@router.get("/locations")
def list_locations(session: SessionDep) -> list[dict]:
    """Every registered location, wrapped as Backstage does: `[{"data": {id, type, target}}]`."""
    return [{"data": location} for location in _ingest().list_locations(session)]


@router.post("/locations", status_code=201)
def create_location(request: Request, user: CurrentUser, session: SessionDep, body: JsonObject) -> dict:
    """Register `{type, target}`; with `?dryRun=true` only report what it would add."""
    location_type, target = body.get("type", "url"), body.get("target")
    if not isinstance(location_type, str) or not isinstance(target, str) or not target.strip():
        raise CatalogApiError(400, "Invalid request body: expected {\"type\": \"url\" | \"file\", \"target\": \"...\"}")
    dry_run = bool_param(request.query_params, "dryRun")
    # A dry run reads the target as registering does, so it needs the same permission.
    authorize(request, user, "catalog.location.create", f"{location_type}:{target}")
    ingest = _ingest()
    settings, http = request.app.state.settings, request.app.state.http
    try:
        result = ingest.register_location(session, settings, http, location_type, target, dry_run=dry_run,
                                         confine_to_roots=True)
    except ingest.LocationExistsError as error:
        raise CatalogApiError(409, str(error)) from None
    except ingest.LocationError as error:
        raise CatalogApiError(400, str(error)) from None
    answer = {"location": result.location, "entities": ingest.registered_entities(session, result)}
    if dry_run:
        answer["exists"] = result.exists
        # Not in Backstage's answer: why documents of the target would not load.
        answer["errors"] = [{"name": "InputError", "message": str(problem)} for problem in result.report.errors]
    return answer


@router.get("/locations/{location_id}")
def get_location(location_id: str, session: SessionDep) -> dict:
    """One location by id."""
    location = _ingest().get_location(session, location_id)
    if location is None:
        raise CatalogApiError(404, f"Found no location with ID {location_id}")
    return location


@router.delete("/locations/{location_id}", status_code=204)
def delete_location(location_id: str, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Unregister a location; the entities it provided are removed with it."""
    authorize(request, user, "catalog.location.delete", location_id)
    if not _ingest().delete_location(session, location_id):
        raise CatalogApiError(404, f"Found no location with ID {location_id}")
    return Response(status_code=204)


@router.get("/locations/by-entity/{kind}/{namespace}/{name}")
def get_location_by_entity(kind: str, namespace: str, name: str, session: SessionDep) -> dict:
    """The location that provides an entity."""
    entity_ref = EntityRef(kind, namespace, name).key
    location = _ingest().location_of_entity(session, entity_ref)
    if location is None:
        raise CatalogApiError(404, f"Found no location for entity {entity_ref}")
    return location
