"""A chart's data as one table (columns and rows), and that table as CSV or JSON for download.

CSV cells starting with = + - @, a tab or a carriage return are prefixed with a quote, so that a
spreadsheet opening the file shows them as text instead of running them as formulas (OWASP's advice
on CSV injection). JSON keeps the values as they are."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException
from fastapi.responses import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ChartTable:
    """The data behind a chart: column names, an optional unit per column, and rows of plain values."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    units: tuple[str | None, ...] = ()

    def unit_of(self, index: int) -> str | None:
        return self.units[index] if index < len(self.units) else None

    def display_columns(self) -> list[str]:
        return [str(_plain(name)) for name in self.columns]

    def display_rows(self) -> list[list[str]]:
        """Rows as people read them (durations in words), for the table behind the "Show data" toggle."""
        from portal.metrics.charts.formatting import format_value

        shown = []
        for row in self.rows:
            cells = []
            for index, value in enumerate(row):
                unit = self.unit_of(index)
                if unit and isinstance(value, (int, float)) and not isinstance(value, bool):
                    cells.append(format_value(float(value), unit))
                else:
                    cells.append(_plain(value) if value is not None else "—")
            shown.append([str(cell) for cell in cells])
        return shown


def _plain(value: object) -> Any:
    """A JSON-able value: times in ISO-8601, non-finite numbers as null."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        # A lone surrogate cannot be written as UTF-8: it becomes "?" rather than a failed download.
        return value.encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _plain(str(value))


def safe_cell(value: object) -> str:
    """One CSV cell: text that a spreadsheet could take for a formula is prefixed with a quote."""
    plain = _plain(value)
    if plain is None:
        return ""
    if isinstance(plain, (bool, int, float)):
        return str(plain).lower() if isinstance(plain, bool) else str(plain)
    return f"'{plain}" if plain.startswith(FORMULA_STARTS) else plain


def to_csv(table: ChartTable) -> str:
    """The header row, then one line per row (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def to_json_document(table: ChartTable, title: str | None = None) -> dict:
    """`{title, columns, units, rows}` with each row a list aligned with `columns`."""
    return {
        "title": title,
        "columns": list(table.columns),
        "units": [table.unit_of(index) for index in range(len(table.columns))],
        "rows": [[_plain(value) for value in row] for row in table.rows],
    }


def to_json(table: ChartTable, title: str | None = None) -> str:
    return json.dumps(to_json_document(table, title), ensure_ascii=False, allow_nan=False)


def download_filename(name: str, extension: str) -> str:
    """A file name safe in a Content-Disposition header: letters, digits, dot, dash, underscore."""
    stem = _FILENAME_UNSAFE.sub("-", name).strip("-.")[:80] or "chart"
    return f"{stem}.{extension}"


@dataclass(frozen=True)
class Downloadable:
    """What a route hands to `download_response`: a name for the file, a title and the table."""

    name: str
    table: ChartTable
    title: str | None = field(default=None)


def download_response(chart: Downloadable | Any, data_format: str) -> Response:
    """The chart's data as a CSV or JSON attachment; any other format is a 400 naming the valid ones
    (an HTTPException, so a browser gets the error page and an API caller JSON).
    `chart` is a Chart (id, title, table) or a Downloadable."""
    if data_format not in FORMATS:
        raise HTTPException(400, f"format must be one of: {', '.join(FORMATS)}")
    name = getattr(chart, "id", None) or getattr(chart, "name", "chart")
    title = getattr(chart, "title", None)
    if data_format == "csv":
        body, media_type = to_csv(chart.table), "text/csv; charset=utf-8"
    else:
        body, media_type = to_json(chart.table, title), "application/json"
    disposition = f'attachment; filename="{download_filename(name, data_format)}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def pick_chart(charts: dict[str, Any], chart_id: str | None) -> Any:
    """The chart a download asks for on a page with several; an unknown id is a 404."""
    if chart_id is None and len(charts) == 1:
        return next(iter(charts.values()))
    if chart_id not in charts:
        raise HTTPException(404, "There is no such chart on this page")
    return charts[chart_id]


def download_url(path_and_query: str, chart_id: str, data_format: str) -> str:
    """The current page's URL with `chart` and `format` set (the window and other parameters kept)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(path_and_query)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key not in ("chart", "format")]
    query += [("chart", chart_id), ("format", data_format)]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))
