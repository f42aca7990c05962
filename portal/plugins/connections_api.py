"""JSON API for connections: GET/POST /api/v1/connections, DELETE /api/v1/connections/{plugin}/{name}."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from portal.auth.identity import CurrentUser, authorize
from portal.db import SessionDep
from portal.plugins.connections import ConnectionError_, delete_connection, list_connections, save_connection

router = APIRouter(prefix="/api/v1/connections", tags=["plugins"])


class ConnectionCreate(BaseModel):
    plugin: str
    name: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")
    config: dict = Field(default_factory=dict)


@router.get("")
def get_connections(request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Every connection, with secrets shown only as `encrypted` or `env:NAME` (admins only: it names hosts and
    variables)."""
    authorize(request, user, "plugins.connection.read")
    items = list_connections(session, request.app.state.plugins)
    return {"items": items, "totalItems": len(items)}


@router.post("", status_code=201)
def create_connection(body: ConnectionCreate, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Add or replace a connection; secret fields are encrypted at rest (or `env:VAR` references)."""
    authorize(request, user, "plugins.connection.update", f"{body.plugin}/{body.name}")
    try:
        return save_connection(session, request.app.state.plugins, request.app.state.settings,
                               body.plugin, body.name, body.config)
    except ConnectionError_ as error:
        raise HTTPException(400, str(error)) from error


@router.delete("/{plugin}/{name}", status_code=204)
def remove_connection(plugin: str, name: str, request: Request, session: SessionDep, user: CurrentUser) -> None:
    """Delete a stored connection; its webhooks are refused from now on."""
    authorize(request, user, "plugins.connection.delete", f"{plugin}/{name}")
    if not delete_connection(session, request.app.state.plugins, plugin, name):
        raise HTTPException(404, f"no stored {plugin} connection named {name!r}")
