"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from portal.migrate import is_current

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = is_current(engine)
    except Exception as error:  # noqa: BLE001 - any database failure means not ready
        return JSONResponse({"status": "unavailable", "reason": f"database: {error.__class__.__name__}"}, 503)
    if not current:
        return JSONResponse({"status": "unavailable", "reason": "schema is not at the newest migration; run `flowport migrate`"}, 503)
    return JSONResponse({"status": "ok"})
