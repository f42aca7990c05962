"""Bar chart, vertical or horizontal, each bar labelled with its value."""

from __future__ import annotations

from collections.abc import Sequence

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.axes import Plot, category_labels, value_axis
from portal.metrics.charts.formatting import NUMBER, format_value
from portal.metrics.charts.scale import LinearScale, domain, nice_ticks
from portal.metrics.charts.svg import (
    GRID_COLOUR,
    HEIGHT,
    MUTED_COLOUR,
    PALETTE,
    SMALL_FONT,
    TEXT_COLOUR,
    WIDTH,
    Chart,
    chart_id_for,
    clip,
    empty_chart,
    finite_number,
    frame,
    heading,
    line,
    rect,
    text,
    xml_text,
)

KIND = "bar"
VERTICAL, HORIZONTAL = "vertical", "horizontal"
ROW_HEIGHT = 28  # horizontal bars: the chart grows with the rows instead of squeezing them
MAX_BARS = 60


def bar_chart(title: str, bars: Sequence[tuple[object, object]], *, unit: str = NUMBER,
              orientation: str = VERTICAL, chart_id: str | None = None, value_name: str = "value") -> Chart:
    """One bar per (label, value); missing values get no bar but keep their place and say "no value".
    Negative values grow from the zero line the other way."""
    if orientation not in (VERTICAL, HORIZONTAL):
        raise ValueError("orientation must be vertical or horizontal")
    items = [(str(label), finite_number(value)) for label, value in list(bars)[:MAX_BARS]]
    table = ChartTable(("label", value_name), tuple(items), (None, unit))
    present = [value for _, value in items if value is not None]
    if not present:
        return empty_chart(KIND, title, chart_id, table=table)
    identity = chart_id_for(KIND, title, chart_id)
    low, high = domain(present)
    ticks = nice_ticks(low, high)
    low, high = min(ticks[0], low), max(ticks[-1], high)
    if orientation == VERTICAL:
        body, height = _vertical(items, low, high, ticks, unit), HEIGHT
    else:
        body, height = _horizontal(items, low, high, unit)
    description = _describe(title, items, unit)
    svg = frame(KIND, identity, title, description, [heading(title), *body], height=height)
    return Chart(identity, KIND, title, description, svg, table)


def _vertical(items: list[tuple[str, float | None]], low: float, high: float, ticks: list[float],
              unit: str) -> list[str]:
    plot = Plot(left=64, top=44, right=WIDTH - 16, bottom=HEIGHT - 36)
    scale = LinearScale(low, high, plot.bottom, plot.top)
    slot = plot.width / len(items)
    width = min(slot * 0.7, 64)
    zero = scale(0.0)
    centres = [plot.left + slot * (index + 0.5) for index in range(len(items))]
    parts = value_axis(plot, scale, ticks, unit)
    for index, (label, value) in enumerate(items):
        centre = centres[index]
        colour = PALETTE[0]
        if value is None:
            parts.append(text(centre, zero - 4, "no value", anchor="middle", size=SMALL_FONT, colour=MUTED_COLOUR))
            continue
        top, bottom = sorted((scale(value), zero))
        parts.append(rect(centre - width / 2, top, width, bottom - top, fill=colour,
                          extra=f' data-label="{xml_text(label)}" data-value="{value!r}"'))
        label_y = top - 5 if value >= 0 else bottom + SMALL_FONT
        if len(items) <= 16:  # value labels stay readable; beyond that the data table has them
            parts.append(text(centre, label_y, format_value(value, unit, short=True), anchor="middle",
                              size=SMALL_FONT, colour=TEXT_COLOUR))
    parts.append(line(plot.left, zero, plot.right, zero, colour=MUTED_COLOUR))
    parts.extend(category_labels(plot, [label for label, _ in items], centres, most=8))
    return parts


def _horizontal(items: list[tuple[str, float | None]], low: float, high: float, unit: str) -> tuple[list[str], int]:
    height = 44 + ROW_HEIGHT * len(items) + 12
    # Labels get the left third; the value text sits past the bar's end.
    plot = Plot(left=WIDTH * 0.34, top=44, right=WIDTH - 70, bottom=height - 12)
    scale = LinearScale(low, high, plot.left, plot.right)
    zero = scale(0.0)
    parts = []
    for index, (label, value) in enumerate(items):
        top = plot.top + ROW_HEIGHT * index
        middle = top + ROW_HEIGHT / 2
        parts.append(text(plot.left - 8, middle + 5, clip(label, 18), anchor="end", size=SMALL_FONT))
        if value is None:
            parts.append(text(zero + 4, middle + 5, "no value", size=SMALL_FONT, colour=MUTED_COLOUR))
            continue
        start, end = sorted((scale(value), zero))
        parts.append(rect(start, top + 5, end - start, ROW_HEIGHT - 10, fill=PALETTE[0],
                          extra=f' data-label="{xml_text(label)}" data-value="{value!r}"'))
        if value >= 0:
            parts.append(text(end + 4, middle + 5, format_value(value, unit, short=True), size=SMALL_FONT))
        else:
            parts.append(text(start - 4, middle + 5, format_value(value, unit, short=True), anchor="end",
                              size=SMALL_FONT))
    parts.append(line(zero, plot.top, zero, plot.bottom, colour=GRID_COLOUR))
    return parts, int(height)


def _describe(title: str, items: list[tuple[str, float | None]], unit: str) -> str:
    known = [(label, value) for label, value in items if value is not None]
    high = max(known, key=lambda pair: pair[1])
    low = min(known, key=lambda pair: pair[1])
    summary = (f"{title}: bar chart of {len(items)} bars; highest {clip(high[0], 40)} at "
               f"{format_value(high[1], unit)}, lowest {clip(low[0], 40)} at {format_value(low[1], unit)}.")
    missing = len(items) - len(known)
    return summary + (f" {missing} without a value." if missing else "")
