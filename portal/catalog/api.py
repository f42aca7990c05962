"""Backstage-compatible catalog JSON API under /api/catalog: entities, facets, validation, refresh."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from portal.auth.identity import CurrentUser, authorize
from portal.catalog import api_docs, query
from portal.catalog.api_locations import router as locations_router
from portal.catalog.api_params import JsonObject, integer_param, string_param
from portal.catalog.entity_fields import parse_fields_params
from portal.catalog.legacy_entities import list_entities_response
from portal.catalog.models import CatalogEntity
from portal.catalog.point_reads import entity_by_ref, entity_by_uid
from portal.catalog.query import EntityQuery, parse_filter_params, parse_order_fields
from portal.catalog.validation import validate_entity
from portal.db import ReadOnlyDep, SessionDep
from portal.errors import CatalogApiError
from portal.json_response import PlainJSONResponse

router = APIRouter(prefix="/api/catalog", tags=["catalog"])
router.include_router(locations_router)
# Backstage sets no number; its catalog client asks for refs in batches. A caller needing more splits them.
MAX_REFS_PER_REQUEST = 1000


@router.get("/entities", openapi_extra=api_docs.LEGACY_LIST)
def list_entities(request: Request, session: SessionDep) -> Response:
    """Legacy listing: a plain JSON array; `offset`/`limit`/`after` page it, otherwise it is streamed."""
    return list_entities_response(request, session)


@router.get("/entities/by-query", openapi_extra=api_docs.BY_QUERY)
async def query_entities(request: Request, database: ReadOnlyDep) -> Response:
    """Backstage's paginated query: filter, fields, orderField, fullTextFilter*, limit, cursor."""
    q = _entity_query(request.query_params)

    def page_json(session: Session) -> Response:
        page = query.query_entities(session, q)
        page_info = {}
        if page.next_cursor:
            page_info["nextCursor"] = page.next_cursor
        if page.prev_cursor:
            page_info["prevCursor"] = page.prev_cursor
        return PlainJSONResponse({"items": page.items, "totalItems": page.total_items, "pageInfo": page_info})

    # Read-only: the whole query and its JSON in one worker-thread hop (see ReadOnlyDatabase).
    return await database.run_in_session(page_json)


def _entity_query(params) -> EntityQuery:  # noqa: ANN001 - Starlette's QueryParams
    """A by-query request's parameters as an EntityQuery."""
    q = EntityQuery(
        fields=parse_fields_params(params.getlist("fields")),
        limit=integer_param(params, "limit"),
        cursor=string_param(params, "cursor"),
    )
    if not q.cursor:
        # As in Backstage, a cursor carries the whole query: the other parameters are ignored then.
        q.filters = parse_filter_params(params.getlist("filter"))
        q.order_fields = parse_order_fields(params.getlist("orderField"))
        q.full_text_term = string_param(params, "fullTextFilterTerm")
        q.full_text_fields = parse_fields_params(params.getlist("fullTextFilterFields"))
        q.offset = integer_param(params, "offset")
        q.count_total = string_param(params, "totalItems") != "exclude"
    return q


@router.get("/entities/by-name/{kind}/{namespace}/{name}")
async def get_entity_by_name(kind: str, namespace: str, name: str, database: ReadOnlyDep) -> Response:
    """One entity by its kind, namespace and name (case-insensitive)."""
    ref = {"kind": kind, "namespace": namespace, "name": name}
    body = await database.run(lambda connection: _entity_json(entity_by_ref(connection, ref)))
    if body is None:
        raise CatalogApiError(404, f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'")
    return Response(body, media_type="application/json")


@router.get("/entities/by-uid/{uid}")
async def get_entity_by_uid(uid: str, database: ReadOnlyDep) -> Response:
    """One entity by its uid."""
    body = await database.run(lambda connection: _entity_json(entity_by_uid(connection, uid)))
    if body is None:
        raise CatalogApiError(404, f"No entity with uid {uid}")
    return Response(body, media_type="application/json")


def _entity_json(entity: dict | None) -> bytes | None:
    # Encoded in the worker thread with the read, so the event loop only sends bytes.
    return None if entity is None else PlainJSONResponse.encode(entity)


@router.delete("/entities/by-uid/{uid}", status_code=204)
def delete_entity_by_uid(uid: str, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Remove one entity; its location may bring it back on the next refresh, as in Backstage."""
    from portal.catalog.store import delete_entities

    row = session.get(CatalogEntity, uid)
    authorize(request, user, "catalog.entity.delete", row.entity_ref if row else uid)
    if row is not None:
        delete_entities(session, [uid])
    return Response(status_code=204)


@router.post("/entities/by-refs", openapi_extra=api_docs.BY_REFS)
def get_entities_by_refs(request: Request, session: SessionDep, body: JsonObject) -> dict:
    """`{"entityRefs": [...], "fields"?: [...]}` -> `{"items": [entity or null, ...]}` in input order."""
    refs = body.get("entityRefs")
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        raise CatalogApiError(400, "Invalid request body: entityRefs must be a list of entity reference strings")
    if len(refs) > MAX_REFS_PER_REQUEST:
        raise CatalogApiError(400, f"Invalid request body: at most {MAX_REFS_PER_REQUEST} entityRefs per request, "
                                   f"got {len(refs)}; ask for the rest in further requests")
    body_fields = body.get("fields") or []
    if not isinstance(body_fields, list) or not all(isinstance(f, str) for f in body_fields):
        raise CatalogApiError(400, "Invalid request body: fields must be a list of strings")
    fields = parse_fields_params([*request.query_params.getlist("fields"), *body_fields])
    filters = parse_filter_params(request.query_params.getlist("filter"))
    return PlainJSONResponse({"items": query.get_by_refs(session, refs, fields=fields, filters=filters)})


@router.get("/entity-facets", openapi_extra=api_docs.FACETS)
async def get_entity_facets(request: Request, database: ReadOnlyDep) -> Response:
    """`?facet=kind&facet=spec.type&filter=...` -> `{"facets": {"kind": [{"value", "count"}], ...}}`."""
    facets = [f.strip() for f in request.query_params.getlist("facet") if f.strip()]
    if not facets:
        raise CatalogApiError(400, "Missing facet parameter, e.g. ?facet=kind")
    filters = parse_filter_params(request.query_params.getlist("filter"))
    return await database.run_in_session(
        lambda session: PlainJSONResponse({"facets": query.entity_facets(session, facets, filters)}))


@router.post("/validate-entity")
def validate_entity_route(body: JsonObject) -> JSONResponse:
    """200 `{"errors": []}` when the entity is valid, 400 `{"errors": [{name, message}]}` when not."""
    entity, location = body.get("entity"), body.get("location")
    problems: list[dict] = []
    if not isinstance(location, str) or ":" not in location:
        problems.append({"name": "InputError", "message": "location must be a location ref like url:https://host/path"})
    elif location.split(":", 1)[0] != "url":
        problems.append({"name": "TypeError", "message": f"Invalid location ref {location}, only 'url:<target>' "
                         "is supported, e.g. url:https://host/path"})
    if not isinstance(entity, dict):
        problems.append({"name": "TypeError", "message": "entity must be an object"})
    else:
        problems += [{"name": "InputError", "message": str(error)} for error in validate_entity(entity)]
    if problems:
        return JSONResponse({"errors": problems}, status_code=400)
    return JSONResponse({"errors": []}, status_code=200)


@router.post("/refresh")
def refresh_entity(request: Request, user: CurrentUser, session: SessionDep, body: JsonObject) -> Response:
    """`{"entityRef": "component:default/x"}`: re-read the entity's location now."""
    from portal.catalog.ingest import refresh_entity as refresh

    entity_ref = body.get("entityRef")
    if not isinstance(entity_ref, str) or not entity_ref.strip():
        raise CatalogApiError(400, "Invalid request body: entityRef must be an entity reference string")
    authorize(request, user, "catalog.entity.refresh", entity_ref)
    settings, http = request.app.state.settings, request.app.state.http
    if refresh(session, settings, http, entity_ref) is None:
        raise CatalogApiError(404, f"No entity {entity_ref} found")
    return Response(status_code=200)
