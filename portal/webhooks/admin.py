"""Operating the inbox: deliveries and replay as JSON (/api/v1/webhooks) and as admin pages (/admin)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from portal.auth.identity import CurrentUser, authorize
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow.query import iso, parse_api_time
from portal.plugins.api import list_plugins
from portal.webhooks import deliveries
from portal.webhooks.models import DELIVERY_STATUSES, WebhookDelivery
from portal.webhooks.processing import replay

api_router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
pages_router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _from_form(request: Request) -> bool:
    """A browser form post (the admin page) gets a redirect back instead of JSON."""
    return request.headers.get("content-type", "").split(";")[0].strip() in _FORM_TYPES


async def _body(request: Request) -> dict:
    if _from_form(request):
        return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise CatalogApiError(400, "The body must be JSON such as {\"since\": \"2024-05-01T00:00:00Z\"}") from None
    if not isinstance(body, dict):
        raise CatalogApiError(400, "The body must be a JSON object")
    return body


def _replay_window(body: dict) -> tuple:
    """`since` (required) and `source` (optional) of a replay request, checked."""
    since_text, source = body.get("since"), (body.get("source") or None)
    if not isinstance(since_text, str) or not since_text.strip():
        raise CatalogApiError(400, "since is required: the ISO-8601 time to replay deliveries from")
    if source is not None and not isinstance(source, str):
        raise CatalogApiError(400, "source must be a tool name such as github")
    deliveries.check_filters(source, None)
    try:
        return parse_api_time(since_text, "since"), source
    except (OverflowError, ValueError):  # a time zone pushing year 1 or 9999 out of range
        raise CatalogApiError(400, f"since={since_text!r} is out of range; use a time such as "
                                   "2024-05-01T00:00:00Z") from None


def _back_to_admin(replayed: int, source: str | None = None) -> RedirectResponse:
    params = {"replayed": replayed, **({"source": source} if source else {})}
    return RedirectResponse("/admin/webhooks?" + urlencode(params), status_code=303)


@api_router.get("/deliveries")
def list_deliveries_api(
    request: Request, session: SessionDep, user: CurrentUser, source: str | None = None, status: str | None = None,
    limit: int = Query(PAGE_SIZE, ge=1, le=500), cursor: str | None = None,
) -> dict:
    """Deliveries newest first, filtered by tool and status; never any secret, no bodies (admins)."""
    authorize(request, user, "admin.webhooks.read")
    page = deliveries.list_deliveries(session, source or None, status or None, limit, cursor)
    page_info = {key: value for key, value in (("nextCursor", page.next_cursor), ("prevCursor", page.prev_cursor))
                 if value}
    return {"items": page.items, "totalItems": page.total_items, "pageInfo": page_info}


def _stored(session: SessionDep, delivery_id: int) -> WebhookDelivery | None:
    """The delivery with that inbox id; None for ids no row can have (beyond the column, negative)."""
    return session.get(WebhookDelivery, delivery_id) if deliveries.is_inbox_id(session, delivery_id) else None


@api_router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: int, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """One delivery with its kept headers and raw body, for debugging a normalizer (admins)."""
    authorize(request, user, "admin.webhooks.body.read", str(delivery_id))
    row = _stored(session, delivery_id)
    if row is None:
        raise CatalogApiError(404, f"No webhook delivery with id {delivery_id}")
    return deliveries.delivery_detail(row)


@api_router.post("/deliveries/{delivery_id}/replay", response_model=None)
def replay_delivery(delivery_id: int, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Queue one delivery for processing again (attempts reset). An ignored delivery is queued too: the
    current normalizer runs over it, and it is processed if its event is used now, else ignored again."""
    authorize(request, user, "admin.webhooks.replay", str(delivery_id))
    row = _stored(session, delivery_id)
    if row is None:
        raise CatalogApiError(404, f"No webhook delivery with id {delivery_id}")
    replayed = replay(session, delivery_id=delivery_id)
    if _from_form(request):
        return _back_to_admin(replayed)
    return JSONResponse({"replayed": replayed, "id": delivery_id, "status": "pending"}, status_code=202)


@api_router.post("/replay", response_model=None)
async def replay_since(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Queue every delivery received since a time (optionally of one tool) for processing again."""
    authorize(request, user, "admin.webhooks.replay")
    try:
        since, source = _replay_window(await _body(request))
    except CatalogApiError as error:
        if not _from_form(request):
            raise
        return _render(request, "error.html", {"status": 400, "message": error.message}, 400)
    replayed = replay(session, since=since, source=source)
    if _from_form(request):
        return _back_to_admin(replayed, source)
    return JSONResponse({"replayed": replayed, "since": iso(since), "source": source}, status_code=202)


def _render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


@pages_router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, session: SessionDep, user: CurrentUser, source: str = "", status: str = "",
                  cursor: str | None = None, replayed: int | None = None) -> HTMLResponse:
    """Recent deliveries with their status and errors, filters, and replay buttons (admins)."""
    authorize(request, user, "admin.webhooks.read")
    source, status = source.strip(), status.strip()
    try:
        page = deliveries.list_deliveries(session, source or None, status or None, PAGE_SIZE, cursor)
    except CatalogApiError as error:
        return _render(request, "error.html", {"status": 400, "message": error.message}, 400)
    filters = [(k, v) for k, v in (("source", source), ("status", status)) if v]
    api_url = "/api/v1/webhooks/deliveries" + ("?" + urlencode(filters) if filters else "")
    context = {
        "page": page, "source": source, "status": status, "statuses": DELIVERY_STATUSES,
        "sources": sorted({*deliveries.known_sources(session), *request.app.state.plugins.classes}),
        "counts": deliveries.status_counts(session), "replayed": replayed, "api_url": api_url,
        "next_url": "/admin/webhooks?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else None,
        "prev_url": "/admin/webhooks?" + urlencode({"cursor": page.prev_cursor}) if page.prev_cursor else None,
    }
    return _render(request, "admin/webhooks.html", context)


@pages_router.get("/webhooks/{delivery_id}", response_class=HTMLResponse)
def delivery_page(delivery_id: int, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """One delivery: its headers, error and body (admins)."""
    authorize(request, user, "admin.webhooks.body.read", str(delivery_id))
    row = _stored(session, delivery_id)
    if row is None:
        return _render(request, "error.html", {"status": 404, "message": f"No webhook delivery with id {delivery_id}."},
                       404)
    return _render(request, "admin/delivery.html", {"delivery": deliveries.delivery_detail(row)})


@pages_router.get("/plugins", response_class=HTMLResponse)
def plugins_page(request: Request, user: CurrentUser) -> HTMLResponse:
    """Each plugin's health: loaded or not, its connections and its last error (admins)."""
    authorize(request, user, "admin.plugins.read")
    return _render(request, "admin/plugins.html", {"plugins": list_plugins(request)["items"]})
