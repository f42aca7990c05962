"""GET /teams/{group}: a team's page. `group` is a group's name (default namespace), `namespace/name`
or a full ref `group:namespace/name`; anything that is not a Group in the catalog is a 404 page.

DORA of the group's components (its child groups' too) with tier badges and, when comparing, trends;
the same per component with a link to each component's metrics tab; the capabilities they use; the
open requests of the group's members that the caller may see. Window in the URL, HTMX fragment,
JSON twin with `Accept: application/json`."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from portal.auth.identity import CurrentUser, require
from portal.catalog.query import get_by_ref
from portal.db import SessionDep
from portal.metrics.chart_data import download_response, download_url, pick_chart
from portal.metrics.pages.component_view import (
    DORA_LABELS, JSON_TIMES, dora_cards, read_window, shown, wants_json, weekly_chart)
from portal.metrics.pages.team_data import team_metrics
from portal.requests.visibility import visible_requests
from portal.web.rendering import is_fragment_request

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[require("metrics.dora.read")])

MAX_REF = 520


def group_ref(value: str) -> str:
    """`name`, `namespace/name` or `group:namespace/name` as a group ref."""
    value = value.strip()
    if value.lower().startswith("group:"):
        value = value[len("group:"):]
    namespace, _, name = value.rpartition("/")
    return f"group:{namespace or 'default'}/{name}"


@router.get("/teams/{group:path}")
def team_page(
    group: str, request: Request, session: SessionDep, user: CurrentUser,
    window: str | None = Query(None, max_length=20), from_: str | None = Query(None, alias="from", max_length=64),
    until: str | None = Query(None, max_length=64), compare: str | None = Query(None, max_length=20),
    chart: str | None = Query(None, max_length=100), format: str | None = Query(None, max_length=10),  # noqa: A002
) -> Response:
    picked = read_window(window, from_, until, compare)
    entity = get_by_ref(session, group_ref(group)) if len(group) <= MAX_REF and "\x00" not in group else None
    if entity is None or str(entity.get("kind", "")).lower() != "group":
        raise HTTPException(404, f"There is no team (Group) called “{group[:100]}” in the catalog.")
    ref = f"group:{entity['metadata'].get('namespace') or 'default'}/{entity['metadata']['name']}".lower()
    visible = visible_requests(session, user, request.app.state.settings.requests_visible_to,
                               request.app.state.policy.allow_anonymous_changes)
    data = team_metrics(session, ref, picked, visible)
    weekly = weekly_chart(data["deploymentsPerWeek"])
    charts = {weekly.id: weekly}
    if format is not None or chart is not None:
        return download_response(pick_chart(charts, chart), format or "csv")
    if wants_json(request):
        return JSONResponse(jsonable_encoder(data, custom_encoder=JSON_TIMES))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context = {
        "entity": entity, "title": entity["metadata"].get("title") or entity["metadata"]["name"], "ref": ref,
        "picked": picked, "data": data, "base_path": request.url.path,
        "cards": dora_cards(data["dora"], data["previousDora"], data["deploymentsPerWeek"]),
        "charts": [(item, download_url(here, item.id, "csv"), download_url(here, item.id, "json"))
                   for item in charts.values()],
        "metric_names": {metric: label for metric, (label, _, _) in DORA_LABELS.items()}, "shown": shown,
    }
    template = "metrics/team_body.html" if is_fragment_request(request) else "metrics/team.html"
    response = request.app.state.templates.TemplateResponse(request, template, context)
    response.headers["Vary"] = "HX-Request, Accept"
    return response
