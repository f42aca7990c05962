"""Product pages: the index, one product with its capabilities, and one capability.

A capability gets its own page under its product (`/products/{product}/capabilities/{name}`), because
people arrive there shopping for a service: it shows how to get it (fulfilment, lead time, template,
docs) in the product's context and links to the plain catalog entity page for relations and metadata.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from portal.auth.identity import CurrentUser
from portal.db import SessionDep
from portal.products import service, settings
from portal.requests.order_pages import order_panel_context

router = APIRouter(tags=["pages"], include_in_schema=False)


def _render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


def not_found(request: Request, message: str, search_term: str) -> HTMLResponse:
    """A readable 404 with a link to search the catalog for what was asked for."""
    return _render(request, "error.html", {"status": 404, "title": "Not found", "message": message,
                                           "search_term": search_term}, 404)


@router.get("/products", response_class=HTMLResponse)
def products_index(request: Request, session: SessionDep) -> HTMLResponse:
    """Every platform product as a card."""
    return _render(request, "products/index.html", {"products": service.product_cards(session)})


@router.get("/products/{name}", response_class=HTMLResponse)
def product_page(name: str, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """One product: owner, customers, objectives, links and its capabilities."""
    product = service.find_product(session, name)
    if product is None:
        return not_found(request, f"There is no platform product called “{name}”.", name)
    capabilities = service.capabilities_of(session, product)
    return _render(request, "products/product.html", {
        "product": product,
        "summary": service.product_summary(product, len(capabilities)),
        "capabilities": [service.capability_summary(product, c) for c in capabilities],
        "product_settings": settings.settings_of(session, product),
        "may_change_settings": settings.may_change(request, user, product),
    })


@router.get("/products/{product_name}/capabilities/{name}", response_class=HTMLResponse)
def capability_page(product_name: str, name: str, request: Request, session: SessionDep) -> HTMLResponse:
    """One capability in its product's context."""
    product = service.find_product(session, product_name)
    if product is None:
        return not_found(request, f"There is no platform product called “{product_name}”.", product_name)
    capability = service.find_capability(session, product, name)
    if capability is None:
        return not_found(request, f"The product “{product_name}” has no capability called “{name}”.", name)
    return _render(request, "products/capability.html", {
        "product": product,
        "product_summary": service.product_summary(product, 0),
        "capability": capability,
        "summary": service.capability_summary(product, capability),
        **order_panel_context(request, session, product, capability),  # the order form's first step
    })
