"""GET /catalog/{namespace}/component/{name}/metrics: the component page's metrics tab.

DORA with tier badges (and trends against the previous window when asked), the lead-time breakdown,
deployments per week, recent deployments and incidents. The window lives in the URL; an HTMX request
gets the tab's body only; `Accept: application/json` gets the JSON twin; `?chart=<id>&format=csv|json`
downloads a chart's data."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from portal.auth.identity import require
from portal.catalog.query import get_by_ref
from portal.db import SessionDep
from portal.metrics.api_dora import dora_of_components
from portal.metrics.chart_data import download_response, download_url, pick_chart
from portal.metrics.charts.formatting import DURATION, format_value
from portal.metrics.entities import component_links
from portal.metrics.pages.component_data import deployments_per_week, recent_deployments, window_incidents
from portal.metrics.pages.component_view import JSON_TIMES, dora_cards, page_charts, read_window, wants_json
from portal.metrics.tiers import DEFAULT_BENCHMARK
from portal.web.rendering import is_fragment_request

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[require("metrics.dora.read")])

# Names longer than this are not catalog names (Backstage allows 63 characters; namespaces too).
MAX_NAME = 253


def component_metrics(session, ref: str, picked) -> dict:  # noqa: ANN001 - a Session and a PageWindow
    """Everything the tab shows, as plain data (the JSON twin is this, encoded)."""
    components = component_links(session, [ref])
    links = components.get(ref, [])
    current = dora_of_components(session, components, picked.window, DEFAULT_BENCHMARK)
    previous = (dora_of_components(session, components, picked.previous, DEFAULT_BENCHMARK)
                if picked.previous is not None else None)
    return {
        "entity": ref, **picked.as_json(), "benchmark": DEFAULT_BENCHMARK, "dora": current,
        "previousDora": previous,
        "deploymentsPerWeek": [{"weekStarting": label, "deployments": count}
                               for label, count in deployments_per_week(session, components, picked.window)],
        "deployments": recent_deployments(session, links, picked.window),
        "incidents": window_incidents(session, links, picked.window),
    }


@router.get("/catalog/{namespace}/component/{name}/metrics")
def component_metrics_page(
    namespace: str, name: str, request: Request, session: SessionDep,
    window: str | None = Query(None, max_length=20), from_: str | None = Query(None, alias="from", max_length=64),
    until: str | None = Query(None, max_length=64), compare: str | None = Query(None, max_length=20),
    chart: str | None = Query(None, max_length=100), format: str | None = Query(None, max_length=10),  # noqa: A002
) -> Response:
    picked = read_window(window, from_, until, compare)
    entity = None
    if len(namespace) <= MAX_NAME and len(name) <= MAX_NAME and "\x00" not in namespace + name:
        entity = get_by_ref(session, f"component:{namespace}/{name}")
    if entity is None:
        raise HTTPException(404, f"There is no component called “{name[:100]}” in the namespace “{namespace[:100]}”.")
    ref = f"component:{entity['metadata'].get('namespace', 'default')}/{entity['metadata']['name']}".lower()
    data = component_metrics(session, ref, picked)
    charts = page_charts(data)
    if format is not None or chart is not None:
        return download_response(pick_chart(charts, chart), format or "csv")
    if wants_json(request):
        return JSONResponse(jsonable_encoder(data, custom_encoder=JSON_TIMES))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context = {
        "entity": entity, "title": entity["metadata"].get("title") or entity["metadata"]["name"], "ref": ref,
        "picked": picked, "data": data,
        "cards": dora_cards(data["dora"], data["previousDora"], data["deploymentsPerWeek"]),
        "charts": [(item, download_url(here, item.id, "csv"), download_url(here, item.id, "json"))
                   for item in charts.values()],
        "base_path": request.url.path, "duration": lambda seconds: format_value(seconds, DURATION),
    }
    template = "metrics/component_metrics_body.html" if is_fragment_request(request) else "metrics/component_metrics.html"
    response = request.app.state.templates.TemplateResponse(request, template, context)
    # The same URL answers with a page, a fragment or JSON, so caches must keep them apart.
    response.headers["Vary"] = "HX-Request, Accept"
    return response
