"""GET /api/v1/plugins: each plugin's health, connections and last error."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(prefix="/api/v1", tags=["plugins"])


@router.get("/plugins")
def list_plugins(request: Request) -> dict:
    """Every discovered plugin, including ones that failed to load (with their error)."""
    registry = request.app.state.plugins
    items = [
        {
            "name": status.name,
            "title": status.title,
            "module": status.module,
            "loaded": status.loaded,
            "connections": status.connections,
            "error": status.error,
            "lastErrorAt": status.last_error_at.isoformat() if status.last_error_at else None,
        }
        for status in sorted(registry.status.values(), key=lambda s: s.name)
    ]
    return {"items": items, "totalItems": len(items)}
