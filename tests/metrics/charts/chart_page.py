"""A test-only page and data route for one chart, the way the metrics pages will serve theirs."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from portal.metrics.chart_data import download_response, download_url, pick_chart
from portal.metrics.charts import (
    HORIZONTAL,
    Series,
    bar_chart,
    cumulative_flow,
    histogram,
    line_chart,
    sparkline,
    tier_badge,
    trend,
    value_stream_map,
)
from portal.web.rendering import build_templates

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ chart.title }}</title>
<link rel="stylesheet" href="/static/flowport.css"></head><body><main>
{% from "metrics/_chart.html" import render_chart %}{{ render_chart(chart, csv_url, json_url) }}
</main></body></html>"""
LABELS = ["2026-W01", "2026-W02", "2026-W03"]
GALLERY = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Every chart</title>
<link rel="stylesheet" href="/static/flowport.css"></head><body><main><h1>Every chart</h1>
{% from "metrics/_chart.html" import render_chart %}
{% for chart in charts %}{{ render_chart(chart, "/_test/chart?format=csv", "/_test/chart?format=json") }}{% endfor %}
<p>Adoption {{ spark.svg }} {{ arrow.html() }} {{ badge.svg }}</p>
</main></body></html>"""


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
    gallery = build_templates().env.from_string(GALLERY)

    def every_chart() -> HTMLResponse:
        return HTMLResponse(gallery.render(charts=gallery_charts(), spark=sparkline("Adoption", [1, 2, 4, 7]),
                                           arrow=trend(70, 100, "lead_time"), badge=tier_badge("high")))

    app.add_api_route(path + "s", every_chart, methods=["GET"], include_in_schema=False)


def gallery_charts() -> list:
    """One chart of each kind with plausible data, for the accessibility check."""
    vsm = {"stages": [{"id": "submitted", "type": "wait", "items": 5, "leadTime": 7_200, "processTime": 0,
                       "percentCompleteAccurate": 1.0},
                      {"id": "fulfilling", "type": "work", "items": 5, "leadTime": 5_400, "processTime": 3_600,
                       "percentCompleteAccurate": 0.8}],
           "totals": {"leadTime": 12_600, "processTime": 3_600, "activityRatio": 0.29,
                      "rolledPercentCompleteAccurate": 0.8}}
    return [
        sample_chart(),
        bar_chart("Deployments per team", [("team-a", 12), ("team-b", 3)], unit="count", orientation=HORIZONTAL,
                  chart_id="deployments"),
        bar_chart("Orders per stage", [("submitted", 2), ("delivered", 7)], unit="count", chart_id="orders"),
        cumulative_flow("Cumulative flow", ["d1", "d2", "d3"], [("submitted", [1, 2, 2]), ("delivered", [0, 1, 3])],
                        chart_id="cfd"),
        histogram("Flow time", [600, 1_200, 3_600, 7_200, 86_400], chart_id="flow-time"),
        value_stream_map(vsm, chart_id="vsm"),
        bar_chart("Nothing yet", [], chart_id="empty"),
    ]
