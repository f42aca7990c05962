"""Chart data as CSV (formula cells defused) and JSON, served by the download helper."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.errors import install_error_handlers
from portal.metrics.chart_data import ChartTable, download_filename, download_url, safe_cell, to_csv, to_json
from tests.metrics.charts.chart_page import add_chart_page


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", '=HYPERLINK("x")'])
def test_formula_cells_are_prefixed(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", "plain"), (-5, "-5"), (-2.5, "-2.5"), (None, ""), (True, "true"), (float("nan"), ""),
    (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00Z"), (date(2026, 1, 2), "2026-01-02"),
])
def test_other_cells_are_left_alone(value, expected: str) -> None:  # noqa: ANN001
    assert safe_cell(value) == expected


def test_csv_has_header_rows_and_defused_cells() -> None:
    table = ChartTable(("team", "=cmd"), (("=2+5", -1), ("a,b \"quoted\"", 2.5)))
    rows = list(csv.reader(io.StringIO(to_csv(table))))
    assert rows == [["team", "'=cmd"], ["'=2+5", "-1"], ['a,b "quoted"', "2.5"]]


def test_json_keeps_values_and_turns_non_finite_into_null() -> None:
    table = ChartTable(("day", "count"), (("d1", float("inf")), ("d2", 3)), (None, "count"))
    document = json.loads(to_json(table, "Title"))
    assert document == {"title": "Title", "columns": ["day", "count"], "units": [None, "count"],
                        "rows": [["d1", None], ["d2", 3]]}


def test_download_names_and_urls_are_safe() -> None:
    assert download_filename('../../etc/passwd"\r\n', "csv") == "etc-passwd.csv"
    assert download_filename("", "json") == "chart.json"
    assert download_url("/products/x?from=2026-01-01&format=old", "lead-time", "csv") == \
        "/products/x?from=2026-01-01&chart=lead-time&format=csv"


@pytest.fixture
def chart_client():  # noqa: ANN201
    app = FastAPI()
    install_error_handlers(app)
    add_chart_page(app)
    with TestClient(app) as client:
        yield client


def test_route_answers_csv(chart_client) -> None:  # noqa: ANN001
    response = chart_client.get("/_test/chart?chart=lead-time&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="lead-time.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["period", "'=HYPERLINK(\"http://evil\")", "previous window"]
    assert rows[1:] == [["2026-W01", "3600.0", "7200.0"], ["2026-W02", "7200.0", ""], ["2026-W03", "5400.0", "9000.0"]]


def test_route_answers_json(chart_client) -> None:  # noqa: ANN001
    response = chart_client.get("/_test/chart?chart=lead-time&format=json")
    assert response.status_code == 200
    document = response.json()
    assert document["title"] == "Lead time for changes"
    assert document["units"] == [None, "duration", "duration"]
    assert document["rows"][1] == ["2026-W02", 7200.0, None]


@pytest.mark.parametrize(("query", "status", "words"), [
    ("chart=lead-time&format=xlsx", 400, "format must be one of: csv, json"),
    ("chart=lead-time&format=%00", 400, "format must be one of"),
    ("chart=../../etc&format=csv", 404, "no such chart"),
    ("chart=nope&format=json", 404, "no such chart"),
])
def test_route_refuses_bad_requests_clearly(chart_client, query: str, status: int, words: str) -> None:  # noqa: ANN001
    response = chart_client.get(f"/_test/chart?{query}")
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_page_shows_the_chart_its_table_and_the_download_links(chart_client) -> None:  # noqa: ANN001
    html = chart_client.get("/_test/chart?from=2026-01-01").text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-line" id="lead-time"' in html
    assert "<summary>Show data" in html
    assert '<th scope="row">2026-W02</th><td>2 hours</td><td>—</td>' in html
    assert 'href="/_test/chart?from=2026-01-01&amp;chart=lead-time&amp;format=csv" download' in html


def test_a_plain_table_downloads_under_its_own_name() -> None:
    from portal.metrics.chart_data import Downloadable, download_response

    response = download_response(Downloadable("portfolio table", ChartTable(("product", "adoption"),
                                                                            (("@risk", 3),))), "csv")
    assert response.headers["content-disposition"] == 'attachment; filename="portfolio-table.csv"'
    assert response.body.decode() == "product,adoption\r\n'@risk,3\r\n"


def test_text_that_cannot_be_utf8_still_downloads() -> None:
    table = ChartTable(("label",), (("bad \ud800 label",),))
    assert to_csv(table).encode("utf-8") == b"label\r\nbad ? label\r\n"
    assert json.loads(to_json(table))["rows"] == [["bad ? label"]]


def test_the_chart_macro_renders_hostile_names_as_text() -> None:
    from portal.metrics.charts import Series, line_chart
    from portal.web.rendering import build_templates

    name = "<img src=x onerror=alert(1)> \ud800"
    chart = line_chart(name, ["a"], [Series(name, (1,))], chart_id="x")
    html = build_templates().env.from_string(
        '{% from "metrics/_chart.html" import render_chart %}{{ render_chart(chart, "/c?format=csv") }}'
    ).render(chart=chart)
    html.encode("utf-8")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<th scope="col">&lt;img src=x onerror=alert(1)&gt; ?</th>' in html
