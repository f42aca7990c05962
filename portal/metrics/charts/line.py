"""Time series line chart: several series over the same x labels, previous-window series dashed."""

from __future__ import annotations

from collections.abc import Sequence

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.axes import Plot, category_labels, legend, legend_height, value_axis
from portal.metrics.charts.formatting import NUMBER, format_value
from portal.metrics.charts.scale import LinearScale, domain, nice_ticks
from portal.metrics.charts.series import Series, marker_path
from portal.metrics.charts.svg import (
    HEIGHT,
    WIDTH,
    Chart,
    chart_id_for,
    empty_chart,
    finite_number,
    frame,
    heading,
    num,
    xml_text,
)

KIND = "line"
MAX_MARKED_POINTS = 31  # beyond that, markers would merge into a thick line
MAX_POINTS = 1_000  # a page never needs more; the latest are kept
MAX_SERIES = 8  # more lines than this are unreadable; the data table still has all of them


def line_chart(title: str, labels: Sequence[object], series: Sequence[Series], *, unit: str = NUMBER,
               chart_id: str | None = None) -> Chart:
    """One line per series; `labels` name the x positions (days, weeks); a series' None values are gaps."""
    every_label = [str(label) for label in labels]
    labels = every_label[-MAX_POINTS:]
    skipped = len(every_label) - len(labels)
    styled = [_styled(item, index) for index, item in enumerate(series)]
    cleaned = [[finite_number(value) for value in tuple(item.values)[skipped: skipped + len(labels)]]
               for item in styled]
    table = ChartTable(("period", *(item.name for item in styled)),
                       tuple((label, *(values[i] if i < len(values) else None for values in cleaned))
                             for i, label in enumerate(labels)),
                       (None, *(unit for _ in styled)))
    present = [value for values in cleaned for value in values if value is not None]
    if not labels or not present:
        return empty_chart(KIND, title, chart_id, table=table)
    identity = chart_id_for(KIND, title, chart_id)
    entries = [(item.name + (" (previous window)" if item.previous and "previous" not in item.name.lower() else ""),
                item.colour, item.dash, "line") for item in styled]
    plot = Plot(left=64, top=36, right=WIDTH - 16, bottom=HEIGHT - 34 - legend_height(min(len(entries), MAX_SERIES)))
    low, high = domain(present, include_zero=min(present) >= 0)
    ticks = nice_ticks(low, high)
    scale_y = LinearScale(min(ticks[0], low), max(ticks[-1], high), plot.bottom, plot.top)
    positions = _positions(plot, len(labels))
    body = [heading(title), *value_axis(plot, scale_y, ticks, unit), *category_labels(plot, labels, positions)]
    for item, values in list(zip(styled, cleaned))[:MAX_SERIES]:
        body.extend(_draw_series(item, values, positions, scale_y))
    body.extend(legend(entries[:MAX_SERIES], plot.left, plot.bottom + 42, plot.width))
    description = _describe(title, labels, styled, cleaned, unit)
    if len(styled) > MAX_SERIES:
        description += f" {len(styled) - MAX_SERIES} more series are only in the data table."
    return Chart(identity, KIND, title, description, frame(KIND, identity, title, description, body), table)


def _styled(item: Series, index: int) -> Series:
    return Series(item.name, tuple(item.values), item.previous, index)


def _positions(plot: Plot, count: int) -> list[float]:
    if count == 1:
        return [plot.left + plot.width / 2]
    step = plot.width / (count - 1)
    return [plot.left + step * index for index in range(count)]


def _draw_series(item: Series, values: list[float | None], positions: list[float], scale_y: LinearScale) -> list[str]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, value in zip(positions, values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((x, scale_y(value)))
    dashed = f' stroke-dasharray="{item.dash}"' if item.dash else ""
    parts = [f'<g class="series" data-series="{xml_text(item.name)}">']
    for points in segments:
        if len(points) > 1:
            path = "M" + "L".join(f"{num(x)} {num(y)}" for x, y in points)
            parts.append(f'<path d="{path}" fill="none" stroke="{item.colour}" stroke-width="2.5"'
                         f' stroke-linejoin="round"{dashed}/>')
    points = [point for segment in segments for point in segment]
    if len(points) <= MAX_MARKED_POINTS or any(len(segment) == 1 for segment in segments):
        for x, y in points:
            fill = "#ffffff" if item.previous else item.colour
            parts.append(f'<path d="{marker_path(item.marker, x, y)}" fill="{fill}" stroke="{item.colour}" '
                         f'stroke-width="1.5"/>')
    parts.append("</g>")
    return parts


def _describe(title: str, labels: list[str], series: list[Series], values: list[list[float | None]],
              unit: str) -> str:
    sentences = [f"{title}: line chart of {len(series)} series over {len(labels)} periods, "
                 f"from {labels[0]} to {labels[-1]}."]
    for item, points in zip(series, values):
        known = [(label, value) for label, value in zip(labels, points) if value is not None]
        if not known:
            sentences.append(f"{item.name}: no values.")
            continue
        low = min(known, key=lambda pair: pair[1])
        high = max(known, key=lambda pair: pair[1])
        sentences.append(f"{item.name}{' (previous window)' if item.previous else ''}: latest "
                         f"{format_value(known[-1][1], unit)}, lowest {format_value(low[1], unit)} ({low[0]}), "
                         f"highest {format_value(high[1], unit)} ({high[0]}).")
    return " ".join(sentences)
