"""Catalog HTML pages: the searchable list, entity pages and the relations graph (SVG and JSON)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from portal.catalog import graph as relations_graph
from portal.catalog.query import EntityQuery, entity_facets, get_by_ref, query_entities
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.web.entity_sections import entity_sections
from portal.catalog.generation import cached
from portal.web.home import CATALOG_KINDS, kind_counts
from portal.web.rendering import is_fragment_request

router = APIRouter(tags=["pages"], include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])

PAGE_SIZE = 25
MAX_FACET_VALUES = 15
# Facet form field -> catalog search key; the order is the order shown in the sidebar.
FACETS = {
    "owner": ("Owner", "spec.owner"),
    "type": ("Type", "spec.type"),
    "lifecycle": ("Lifecycle", "spec.lifecycle"),
    "tag": ("Tags", "metadata.tags"),
    "namespace": ("Namespace", "metadata.namespace"),
}
FULL_TEXT_FIELDS = ["metadata.name", "metadata.title", "metadata.description", "spec.owner", "spec.type",
                    "metadata.tags", "spec.profile.displayname"]
LIST_FIELDS = ["kind", "metadata.name", "metadata.namespace", "metadata.title", "metadata.description",
               "metadata.tags", "spec.type", "spec.owner", "spec.lifecycle", "spec.profile.displayName"]


def _render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


def _selected(request: Request) -> dict[str, list[str]]:
    """Facet values chosen in the query string (repeated parameters), blanks dropped."""
    return {field: [v for v in request.query_params.getlist(field) if v.strip()] for field in FACETS}


def _filters(kind: str | None, selected: dict[str, list[str]]) -> list[dict]:
    group: dict[str, list[str] | None] = {"kind": [kind]} if kind else {}
    for field, values in selected.items():
        if values:
            group[FACETS[field][1]] = values
    return [group] if group else []


def _api_twin(filters: list[dict], q: str, limit: int, cursor: str | None) -> str:
    """The /api/catalog/entities/by-query URL answering the same question as the page."""
    if cursor:
        return "/api/catalog/entities/by-query?" + urlencode({"cursor": cursor, "limit": limit})
    params: list[tuple[str, str | int]] = []
    for group in filters:
        params.append(("filter", ",".join(f"{key}={value}" for key, values in group.items() for value in values or [])))
    if q:
        params += [("fullTextFilterTerm", q), ("fullTextFilterFields", ",".join(FULL_TEXT_FIELDS))]
    params += [("orderField", "metadata.name,asc"), ("limit", limit)]
    return "/api/catalog/entities/by-query?" + urlencode(params)


def _page_url(base: list[tuple[str, str]], cursor: str | None) -> str:
    return "/catalog?" + urlencode([*base, ("cursor", cursor)] if cursor else base)


@router.get("/catalog", response_class=HTMLResponse)
def catalog_list(
    request: Request, session: SessionDep, kind: str | None = None, q: str = "",
    cursor: str | None = None, limit: int = Query(PAGE_SIZE, ge=1, le=100),
) -> HTMLResponse:
    """Kind tabs, facet filters, live search and cursor paging; HTMX gets only the results fragment."""
    kind = (kind or "").strip().lower() or None
    q = q.strip()
    selected = _selected(request)
    filters = _filters(kind, selected)
    query = EntityQuery(filters=filters, fields=LIST_FIELDS, limit=limit, order_fields=[("metadata.name", "asc")],
                        full_text_term=q or None, full_text_fields=FULL_TEXT_FIELDS, cursor=cursor)
    try:
        page = query_entities(session, query)
    except CatalogApiError as error:
        # A stale or hand-edited cursor: say so instead of failing the whole page.
        return _render(request, "error.html", {"status": 400, "message": error.message}, 400)
    base_params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor" and v.strip()]
    context = {
        "kind": kind, "q": q, "selected": selected, "page": page, "limit": limit,
        "next_url": _page_url(base_params, page.next_cursor) if page.next_cursor else None,
        "prev_url": _page_url(base_params, page.prev_cursor) if page.prev_cursor else None,
        "api_url": _api_twin(filters, q, limit, cursor),
    }
    if is_fragment_request(request):
        response = _render(request, "catalog/_catalog_results.html", context)
    else:
        facets = entity_facets(session, [key for _, key in FACETS.values()], [{"kind": [kind]}] if kind else [])
        context["facets"] = [
            (field, label, facets.get(key, [])[:MAX_FACET_VALUES]) for field, (label, key) in FACETS.items()
        ]
        counts = cached(session, "kind_counts", lambda: kind_counts(session))
        context["tabs"] = _tabs(counts, kind, q)
        response = _render(request, "catalog/list.html", context)
    # The same URL answers with a page or a fragment, so caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


def _tabs(counts: dict[str, int], active: str | None, q: str) -> list[dict]:
    """One tab per kind; switching keeps the search words but drops facets, whose values differ per kind."""
    def url(kind: str | None) -> str:
        params = [(name, value) for name, value in (("kind", kind), ("q", q)) if value]
        return "/catalog?" + urlencode(params) if params else "/catalog"

    tabs = [{"label": "All", "url": url(None), "count": sum(counts.values()), "active": active is None}]
    tabs += [{"label": kind, "url": url(kind.lower()), "count": counts.get(kind, 0), "active": active == kind.lower()}
             for kind in CATALOG_KINDS]
    return tabs


def _load_entity(session: SessionDep, namespace: str, kind: str, name: str) -> dict:
    entity = get_by_ref(session, f"{kind}:{namespace}/{name}")
    if entity is None:
        raise HTTPException(404, f"No {kind} called '{name}' in namespace '{namespace}'")
    return entity


def _not_found(request: Request, namespace: str, kind: str, name: str) -> HTMLResponse:
    message = (f"There is no {kind} called “{name}” in the namespace “{namespace}”. It may have been renamed, "
               "moved to another namespace or removed from its location.")
    return _render(request, "error.html", {"status": 404, "title": "Entity not found", "message": message,
                                           "search_term": name}, 404)


@router.get("/catalog/{namespace}/{kind}/{name}", response_class=HTMLResponse)
def entity_page(namespace: str, kind: str, name: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Overview, owner, relations, links, annotations, processing errors and the relations graph."""
    entity = get_by_ref(session, f"{kind}:{namespace}/{name}")
    if entity is None:
        return _not_found(request, namespace, kind, name)
    graph = relations_graph.build_graph(session, entity)
    sections = entity_sections(session, entity)
    svg = relations_graph.render_svg(graph, f"Relations of {sections['title']}")
    return _render(request, "catalog/entity.html", {"entity": entity, "graph": graph, "graph_svg": Markup(svg),
                                                     **sections})


@router.get("/catalog/{namespace}/{kind}/{name}/graph.svg")
def entity_graph_svg(namespace: str, kind: str, name: str, request: Request, session: SessionDep) -> Response:
    """The relations graph alone, as an SVG image."""
    entity = _load_entity(session, namespace, kind, name)
    title = (entity["metadata"].get("title") or entity["metadata"]["name"])
    svg = relations_graph.render_svg(relations_graph.build_graph(session, entity), f"Relations of {title}")
    return Response(svg, media_type="image/svg+xml")


@api_router.get("/graph/{namespace}/{kind}/{name}")
def entity_graph_json(namespace: str, kind: str, name: str, request: Request, session: SessionDep) -> dict:
    """The relations graph of an entity: nodes (with page URLs) and edges labelled with relation types."""
    entity = _load_entity(session, namespace, kind, name)
    return relations_graph.build_graph(session, entity).to_json()
