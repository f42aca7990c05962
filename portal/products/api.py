"""JSON twins of the product pages under /api/v1/products."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from portal.auth.identity import CurrentUser
from portal.db import SessionDep
from portal.products import service, settings

router = APIRouter(prefix="/api/v1/products", tags=["products"])


@router.get("")
def list_products(session: SessionDep) -> dict:
    """Every platform product with its owner, lifecycle and number of capabilities."""
    return {"items": service.product_cards(session)}


@router.get("/{name}")
def get_product(name: str, session: SessionDep) -> dict:
    """One product: the full entity, its summary and its capabilities (summaries and entities)."""
    product = service.find_product(session, name)
    if product is None:
        raise HTTPException(404, f"No platform product called '{name}'")
    capabilities = service.capabilities_of(session, product)
    return {
        "product": product,
        "summary": service.product_summary(product, len(capabilities)),
        "capabilities": [
            {"summary": service.capability_summary(product, c), "entity": c} for c in capabilities
        ],
    }


@router.get("/{product_name}/capabilities/{name}")
def get_capability(product_name: str, name: str, session: SessionDep) -> dict:
    """One capability of a product, as summary and full entity."""
    product = service.find_product(session, product_name)
    if product is None:
        raise HTTPException(404, f"No platform product called '{product_name}'")
    capability = service.find_capability(session, product, name)
    if capability is None:
        raise HTTPException(404, f"Product '{product_name}' has no capability called '{name}'")
    return {"summary": service.capability_summary(product, capability), "entity": capability}


def _product_or_404(session, name: str) -> dict:  # noqa: ANN001 - a Session
    product = service.find_product(session, name)
    if product is None:
        raise HTTPException(404, f"No platform product called '{name}'")
    return product


@router.get("/{name}/settings")
def get_product_settings(name: str, session: SessionDep) -> dict:
    """What the product's owners set in the portal: `{ideasOpen, announcement, supportUrl}`."""
    return settings.settings_of(session, _product_or_404(session, name)).model_dump()


@router.put("/{name}/settings")
def put_product_settings(name: str, body: settings.ProductSettings, http: Request, session: SessionDep,
                         user: CurrentUser) -> dict:
    """Replace the settings; only the product's owner group (members, also through child groups) and admins."""
    product = _product_or_404(session, name)
    settings.check_may_change(http, user, product)
    return settings.save_settings(session, product, body, user.user_ref or "anonymous").model_dump()
