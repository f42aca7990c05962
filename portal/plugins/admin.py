"""The connections admin page: one form per plugin, its fields drawn from the plugin's config model."""

from __future__ import annotations

import typing
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from portal.auth.identity import CurrentUser, authorize
from portal.db import SessionDep
from portal.plugins.connections import ConnectionError_, delete_connection, list_connections, save_connection
from portal.plugins.secrets import secret_fields

router = APIRouter(prefix="/admin/connections", tags=["pages"], include_in_schema=False)


def form_fields(model) -> list[dict]:  # noqa: ANN001
    """Inputs for a config model: secrets as password inputs, lists as one-per-line text areas,
    with the field's description (e.g. what a sync scope list accepts) as its hint."""
    secrets = secret_fields(model)
    fields = []
    for name, field in model.model_fields.items():
        if name == "name":
            continue
        is_list = typing.get_origin(field.annotation) is list
        default = field.get_default(call_default_factory=True)
        fields.append({
            "name": name, "label": name.replace("_", " ").capitalize(), "secret": name in secrets,
            "list": is_list, "required": field.is_required(), "help": field.description,
            "default": "" if default in (None, []) or name in secrets else str(default),
        })
    return fields


def _values_from_form(model, form: dict[str, str]) -> dict:  # noqa: ANN001
    values = {}
    for field in form_fields(model):
        raw = (form.get(field["name"]) or "").strip()
        if not raw:
            continue
        if field["list"]:
            values[field["name"]] = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
        else:
            values[field["name"]] = raw
    return values


def _page(request: Request, session, message: str | None = None, error: str | None = None,  # noqa: ANN001
          status: int = 200) -> HTMLResponse:
    registry = request.app.state.plugins
    plugins = [{"name": name, "title": cls.title, "fields": form_fields(cls.config_model)}
               for name, cls in sorted(registry.classes.items())]
    context = {"connections": list_connections(session, registry), "plugins": plugins,
               "message": message, "error": error}
    return request.app.state.templates.TemplateResponse(request, "admin/connections.html", context,
                                                        status_code=status)


@router.get("", response_class=HTMLResponse)
def connections_page(request: Request, session: SessionDep, user: CurrentUser, saved: str = "",
                     deleted: str = "") -> HTMLResponse:
    """Every connection (JSON twin: GET /api/v1/connections) and a form to add one per plugin (admins only)."""
    authorize(request, user, "plugins.connection.read")
    message = f"Saved connection {saved}." if saved else f"Deleted connection {deleted}." if deleted else None
    return _page(request, session, message=message)


@router.post("", response_class=HTMLResponse)
async def add_connection(request: Request, session: SessionDep, user: CurrentUser):  # noqa: ANN201
    """Save the posted form; a problem re-renders the page with the reason."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    plugin, name = form.get("plugin", ""), (form.get("connection_name") or "default").strip()
    authorize(request, user, "plugins.connection.update", f"{plugin}/{name}")
    plugin_class = request.app.state.plugins.classes.get(plugin)
    if plugin_class is None:
        return _page(request, session, error=f"No plugin named {plugin!r} is installed.", status=400)
    try:
        save_connection(session, request.app.state.plugins, request.app.state.settings, plugin, name,
                        _values_from_form(plugin_class.config_model, form))
    except ConnectionError_ as error:
        return _page(request, session, error=str(error), status=400)
    return RedirectResponse("/admin/connections?" + urlencode({"saved": f"{plugin}/{name}"}), status_code=303)


@router.post("/{plugin}/{name}/delete")
def remove_connection(plugin: str, name: str, request: Request, session: SessionDep, user: CurrentUser):  # noqa: ANN201
    authorize(request, user, "plugins.connection.delete", f"{plugin}/{name}")
    delete_connection(session, request.app.state.plugins, plugin, name)
    return RedirectResponse("/admin/connections?" + urlencode({"deleted": f"{plugin}/{name}"}), status_code=303)
