"""GET /api/v1/plugins: each plugin's health, connections and last error."""

from __future__ import annotations

from fastapi import APIRouter, Request

from portal.auth.identity import require

router = APIRouter(prefix="/api/v1", tags=["plugins"], dependencies=[require("plugins.health.read")])


@router.get("/plugins")
def list_plugins(request: Request) -> dict:
    """Every discovered plugin, including ones that failed to load (with their error)."""
    from portal.sync.store import sync_status

    registry = request.app.state.plugins
    syncs: dict[str, list[dict]] = {}
    for row in sync_status(request.app.state.engine):
        syncs.setdefault(row["source"], []).append({
            "connection": row["connection"], "syncing": row["syncing"], "lastError": row["last_error"],
            "lastSyncAt": _iso(row["last_sync_at"]), "lastSuccessAt": _iso(row["last_success_at"]),
            "lastRequests": row["last_requests"], "lastNotModified": row["last_not_modified"],
            "lastRecords": row["last_records"],
        })
    items = [
        {
            "name": status.name,
            "title": status.title,
            "module": status.module,
            "loaded": status.loaded,
            "connections": status.connections,
            "error": status.error,
            "lastErrorAt": _iso(status.last_error_at),
            "syncs": syncs.get(status.name, []),
        }
        for status in sorted(registry.status.values(), key=lambda s: s.name)
    ]
    return {"items": items, "totalItems": len(items)}


def _iso(moment) -> str | None:  # noqa: ANN001
    return moment.isoformat() if moment else None
