"""GET /products/{name}/metrics: a platform product's delivery, flow, value stream, value realized and
impact, for the window in the URL. The same route answers JSON (`Accept: application/json`), the
HTMX partial (`HX-Request`) and each chart's data (`?chart=<id>&format=csv|json`)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.metrics.chart_data import FORMATS, download_response, download_url, pick_chart
from portal.metrics.charts.formatting import format_value
from portal.metrics.entities import parse_entity_ref
from portal.metrics.impact import window_length_from_query
from portal.metrics.page_window import PageWindow, page_window
from portal.metrics.pages.product_charts import dora_badges, product_charts
from portal.metrics.pages.product_sections import DORA_NAMES, product_impact, product_sections, trend_json
from portal.products import service
from portal.requests.visibility import visible_requests

router = APIRouter(tags=["pages"], include_in_schema=False)
READS = ("metrics.dora.read", "metrics.flow.read", "metrics.value.read")
DORA_UNITS = {"perWeek": "number", "seconds": "duration", "ratio": "percent"}
WINDOW = Query(None, max_length=40)
MOMENT = Query(None, max_length=64)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(request: Request, status: int, message: str) -> Response:
    """The error in the caller's shape: JSON for API callers, else the readable error page."""
    if wants_json(request):
        return JSONResponse({"error": {"name": "InputError" if status == 400 else "NotFoundError",
                                       "message": message}, "response": {"statusCode": status}}, status_code=status)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status)


def varied(response: Response) -> Response:
    """One URL answers the page, its HTMX partial and its JSON twin: caches must key on both headers."""
    response.headers["Vary"] = "Accept, HX-Request"
    return response


def authorize_reads(request: Request, user: Identity) -> None:
    """The page shows what the DORA, flow and value APIs answer: it needs each of their permissions."""
    for action in READS:
        authorize(request, user, action)


def visible_condition(request: Request, session, user: Identity):  # noqa: ANN001, ANN201 - a SQL condition
    return visible_requests(session, user, request.app.state.settings.requests_visible_to,
                            request.app.state.policy.allow_anonymous_changes)


def page_path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def as_json(sections: dict) -> dict:
    """The JSON twin: the sections, with trends as plain objects."""
    answer = {key: value for key, value in sections.items() if key != "trends"}
    answer["trends"] = {name: trend_json(value) for name, value in sections["trends"].items()}
    return answer


@router.get("/products/{name}/metrics", response_class=HTMLResponse)
def product_metrics(name: str, request: Request, session: SessionDep, user: CurrentUser,
                    window: str | None = WINDOW, from_: str | None = Query(None, alias="from", max_length=64),
                    until: str | None = MOMENT, compare: str | None = Query(None, max_length=20),
                    chart: str | None = Query(None, max_length=80),
                    format: str | None = Query(None, max_length=10)) -> Response:  # noqa: A002 - the URL's name
    """The product's metrics page, its JSON twin, its HTMX partial or one chart's data."""
    authorize_reads(request, user)
    try:
        chosen = page_window(window, from_, until, compare)
    except CatalogApiError as error:
        return error_page(request, 400, error.message)
    if format is not None and format not in FORMATS:
        return error_page(request, 400, f"format must be one of: {', '.join(FORMATS)}")
    product = service.find_product(session, name)
    if product is None:
        return error_page(request, 404, f"There is no platform product called “{name[:100]}”.")
    ref = product_ref(product)
    sections = product_sections(session, ref, chosen, visible_condition(request, session, user))
    if wants_json(request) and format is None:
        return varied(JSONResponse(as_json(sections)))
    charts = product_charts(sections)
    if format is not None:
        return download_response(pick_chart(charts, chart), format)
    context = page_context(request, product, sections, charts, chosen)
    template = "metrics/product_metrics_body.html" if request.headers.get("hx-request") else \
        "metrics/product_metrics.html"
    return varied(request.app.state.templates.TemplateResponse(request, template, context))


def product_ref(product: dict) -> str:
    return parse_entity_ref(service.product_summary(product, 0)["ref"], "product")


@router.get("/products/{name}/metrics/impact", response_class=HTMLResponse)
def product_impact_page(name: str, request: Request, session: SessionDep, user: CurrentUser,
                        window: str | None = WINDOW, from_: str | None = Query(None, alias="from", max_length=64),
                        until: str | None = MOMENT, compare: str | None = Query(None, max_length=20)) -> Response:
    """Per capability, DORA of its adopters in the window and DORA before and after adoption: a page,
    its HTMX partial or its JSON twin."""
    authorize_reads(request, user)
    try:
        chosen = page_window(window, from_, until, compare)
    except CatalogApiError as error:
        return error_page(request, 400, error.message)
    product = service.find_product(session, name)
    if product is None:
        return error_page(request, 404, f"There is no platform product called “{name[:100]}”.")
    ref = product_ref(product)
    capabilities = product_impact(session, ref, chosen.window)
    if wants_json(request):
        return varied(JSONResponse({"product": ref, "window": chosen.as_json(), "capabilities": capabilities}))
    template = "metrics/product_impact_body.html" if request.headers.get("hx-request") else \
        "metrics/product_impact.html"
    return varied(request.app.state.templates.TemplateResponse(request, template, {
        "name": product["metadata"]["name"], "title": service.display_name(product), "capabilities": capabilities,
        "fmt": format_value, "base_path": request.url.path, "section": "products", "chosen": chosen,
        "dora_names": DORA_NAMES, "dora_units": DORA_UNITS, "json_url": request.url.path + "?" + chosen.query(),
        "impact_days": round(window_length_from_query(None).total_seconds() / 86_400)}))


def page_context(request: Request, product, sections: dict, charts: dict, chosen: PageWindow) -> dict:  # noqa: ANN001
    here = page_path(request)
    return {
        "name": product["metadata"]["name"], "title": service.display_name(product), "data": sections, "charts": charts,
        "badges": dora_badges(sections["dora"]), "trends": sections["trends"], "chosen": chosen,
        "base_path": request.url.path, "dora_names": DORA_NAMES, "dora_units": DORA_UNITS,
        "fmt": format_value,
        "download": lambda chart_id, data_format: download_url(here, chart_id, data_format),
        "json_url": request.url.path + "?" + chosen.query(),
        "section": "products",
    }
