"""GET /portfolio: every platform product in one table, for the window in the URL, with trend arrows
against the previous window. `Accept: application/json` gets the same rows; `HX-Request` the partial."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from portal.auth.identity import CurrentUser
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.metrics.charts.formatting import format_value
from portal.metrics.page_window import page_window
from portal.metrics.pages.portfolio_rows import portfolio_rows, rows_json
from portal.metrics.pages.product import authorize_reads, error_page, varied, visible_condition, wants_json

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio(request: Request, session: SessionDep, user: CurrentUser,
              window: str | None = Query(None, max_length=40), from_: str | None = Query(None, alias="from", max_length=64),
              until: str | None = Query(None, max_length=64), compare: str | None = Query(None, max_length=20)) -> Response:
    """The portfolio page, its JSON twin or its HTMX partial."""
    authorize_reads(request, user)
    try:
        chosen = page_window(window, from_, until, compare)
    except CatalogApiError as error:
        return error_page(request, 400, error.message)
    rows = portfolio_rows(session, chosen, visible_condition(request, session, user))
    if wants_json(request):
        return varied(JSONResponse({"window": chosen.as_json(), "comparedWith": chosen.window.previous().iso(),
                                    "products": rows_json(rows)}))
    template = "metrics/portfolio_body.html" if request.headers.get("hx-request") else "metrics/portfolio.html"
    return varied(request.app.state.templates.TemplateResponse(request, template, {
        "rows": rows, "chosen": chosen, "base_path": request.url.path, "fmt": format_value,
        "json_url": request.url.path + "?" + chosen.query(), "section": "portfolio"}))
