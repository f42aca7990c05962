"""A test-only page and data route for one chart, the way the metrics pages will serve theirs."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from portal.metrics.chart_data import download_response, download_url, pick_chart
from portal.metrics.charts import Series, line_chart
from portal.web.rendering import build_templates

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ chart.title }}</title>
<link rel="stylesheet" href="/static/flowport.css"></head><body><main>
{% from "metrics/_chart.html" import render_chart %}{{ render_chart(chart, csv_url, json_url) }}
</main></body></html>"""
LABELS = ["2026-W01", "2026-W02", "2026-W03"]


def sample_chart():  # noqa: ANN201
    """A line chart whose data has a formula-looking label, to prove the download is defused."""
    return line_chart("Lead time for changes", LABELS,
                      [Series("=HYPERLINK(\"http://evil\")", (3_600, 7_200, 5_400)),
                       Series("previous window", (7_200, None, 9_000), previous=True)],
                      unit="duration", chart_id="lead-time")


def add_chart_page(app: FastAPI, path: str = "/_test/chart") -> None:
    """`GET path` shows the chart; `?chart=lead-time&format=csv|json` downloads its data."""
    page = build_templates().env.from_string(PAGE)

    def chart_page(request: Request, format: str | None = None, chart: str | None = None):  # noqa: A002, ANN202
        charts = {"lead-time": sample_chart()}
        if format is not None:
            return download_response(pick_chart(charts, chart), format)
        here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        shown = charts["lead-time"]
        return HTMLResponse(page.render(chart=shown, csv_url=download_url(here, shown.id, "csv"),
                                        json_url=download_url(here, shown.id, "json")))

    app.add_api_route(path, chart_page, methods=["GET"], include_in_schema=False)
