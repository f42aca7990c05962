"""The home page: platform products first, then a short summary of the catalog."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from portal.catalog import kept_counts
from portal.db import SessionDep
from portal.products.service import product_cards
from portal.catalog.generation import cached

router = APIRouter(tags=["pages"], include_in_schema=False)

# The catalog tabs, in the order people look for things; the label is the canonical kind name.
CATALOG_KINDS = (
    "Component", "API", "Resource", "System", "Domain", "Group", "User", "Template",
    "PlatformProduct", "Capability", "Location",
)


def kind_counts(session: Session) -> dict[str, int]:
    """Entities per kind (canonical kind names as keys), from the store's kept counts."""
    by_lower = {kind.lower(): kind for kind in CATALOG_KINDS}
    return {by_lower.get(kind, kind): count for kind, count in kept_counts.entities_per_kind(session).items()}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    """Products as cards, then entity counts per kind linking to the catalog tabs."""
    counts = cached(session, "kind_counts", lambda: kind_counts(session))
    summary = [(kind, counts[kind]) for kind in CATALOG_KINDS if counts.get(kind)]
    summary += sorted((kind, count) for kind, count in counts.items() if kind not in CATALOG_KINDS)
    return request.app.state.templates.TemplateResponse(request, "home.html", {
        "products": product_cards(session),
        "kind_summary": summary,
        "total_entities": sum(counts.values()),
    })
