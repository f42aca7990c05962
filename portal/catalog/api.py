"""Backstage-compatible catalog JSON API under /api/catalog."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from portal.catalog.models import CatalogEntity
from portal.catalog.store import assemble
from portal.db import SessionDep
from portal.errors import CatalogApiError

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get("/entities/by-name/{kind}/{namespace}/{name}")
def get_entity_by_name(kind: str, namespace: str, name: str, session: SessionDep) -> dict:
    """One entity by its kind, namespace and name (case-insensitive)."""
    ref = f"{kind}:{namespace}/{name}".lower()
    row = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref == ref)).scalar_one_or_none()
    if row is None:
        raise CatalogApiError(404, f"No entity named '{ref}' found")
    return assemble(session, [row])[0]
