"""Entity page cards (recent changes, deployments, open incidents, pipeline health) as HTMX fragments,
loaded after the page so a slow query never holds it up; without HTMX each is a page of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from portal.auth.identity import require
from portal.catalog.refs import EntityRef
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow import summary
from portal.flow.query import LINK_ANNOTATIONS, Link, entity_links
from portal.web.humanize import entity_url
from portal.web.rendering import is_fragment_request

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[require("flow.records.read")])


@dataclass(frozen=True)
class Card:
    """One card: its URL name, heading, data loader and the flow API collection behind it."""

    name: str
    title: str
    load: Callable[[Session, list[Link]], object]
    collection: str


CARDS = {card.name: card for card in (
    Card("recent-changes", "Recent changes", summary.recent_changes, "changes"),
    Card("deployments", "Deployments", summary.latest_deployments, "deployments"),
    Card("open-incidents", "Open incidents", summary.open_incidents, "incidents"),
    Card("pipeline-health", "Pipeline health", summary.pipeline_health, "pipeline-runs"),
)}


def card_links(entity: dict) -> list[dict]:
    """Name, title and fragment URL of every card, for the placeholders on the entity page."""
    metadata = entity.get("metadata") or {}
    base = entity_url(EntityRef(str(entity.get("kind")), str(metadata.get("namespace") or "default"),
                                str(metadata.get("name"))))
    return [{"name": card.name, "title": card.title, "url": f"{base}/cards/{card.name}"} for card in CARDS.values()]


def _render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status)
    # The same URL answers with a fragment or a whole page.
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/catalog/{namespace}/{kind}/{name}/cards/{card_name}", response_class=HTMLResponse)
def entity_card(namespace: str, kind: str, name: str, card_name: str, request: Request,
                session: SessionDep) -> HTMLResponse:
    """One card of an entity: a fragment for HTMX, a small page otherwise."""
    card = CARDS.get(card_name)
    ref = f"{kind}:{namespace}/{name}"
    fragment = is_fragment_request(request)
    if card is None:
        known = ", ".join(CARDS)
        return _render(request, "flow/card_missing.html" if fragment else "error.html",
                       {"status": 404, "message": f"There is no card called “{card_name}”; cards are {known}."}, 404)
    try:
        entity_ref, links = entity_links(session, ref)
    except CatalogApiError as error:
        return _render(request, "flow/card_missing.html" if fragment else "error.html",
                       {"status": error.status, "message": error.message, "card": card}, error.status)
    context = {
        "card": card, "entity_ref": entity_ref, "links": links, "data": card.load(session, links),
        "link_annotations": LINK_ANNOTATIONS, "page_url": entity_url(ref),
        "api_url": f"/api/v1/flow/{card.collection}?" + urlencode({"entity": entity_ref}),
        "summary_url": "/api/v1/flow/summary?" + urlencode({"entity": entity_ref}),
    }
    if fragment:
        return _render(request, f"flow/card_{card.name.replace('-', '_')}.html", context)
    return _render(request, "flow/card_page.html", context)
