"""Histogram of a distribution (e.g. flow times) with p50, p85 and p95 marked."""

from __future__ import annotations

from collections.abc import Sequence

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.axes import Plot, value_axis
from portal.metrics.charts.formatting import COUNT, DURATION, format_value
from portal.metrics.charts.scale import LinearScale, nice_ticks
from portal.metrics.charts.svg import (
    HEIGHT,
    MUTED_COLOUR,
    PALETTE,
    SMALL_FONT,
    TEXT_COLOUR,
    WIDTH,
    Chart,
    chart_id_for,
    empty_chart,
    finite_number,
    frame,
    heading,
    line,
    rect,
    text,
)
from portal.metrics.stats import percentile

KIND = "histogram"
MARKERS = ((0.5, "p50", "4 3"), (0.85, "p85", "8 3"), (0.95, "p95", "2 3"))
MAX_BINS = 40


def histogram(title: str, values: Sequence[object], *, unit: str = DURATION, bins: int = 12,
              chart_id: str | None = None) -> Chart:
    """Equal-width bins from the smallest to the largest value, with percentile lines.
    Negative, missing and non-finite values are not durations: they are left out and counted in the description."""
    measured = [number for number in (finite_number(value) for value in values) if number is not None and number >= 0]
    left_out = len(values) - len(measured)
    bins = max(1, min(int(bins), MAX_BINS))
    if not measured:
        return empty_chart(KIND, title, chart_id, table=ChartTable(("from", "until", "items"), (), (unit, unit, COUNT)))
    low, high = min(measured), max(measured)
    if low == high:
        bins = 1
    width = (high / bins - low / bins)
    edges = [low + width * index for index in range(bins)] + [high]
    counts = [0] * bins
    for value in measured:
        index = bins - 1 if width <= 0 else min(int((value / 2 - low / 2) / (width / 2)), bins - 1)
        counts[index] += 1
    table = ChartTable(("from", "until", "items"),
                       tuple((edges[i], edges[i + 1], counts[i]) for i in range(bins)), (unit, unit, COUNT))
    marks = [(name, percentile(measured, share), dash) for share, name, dash in MARKERS]
    identity = chart_id_for(KIND, title, chart_id)
    plot = Plot(left=56, top=70, right=WIDTH - 16, bottom=HEIGHT - 40)
    ticks = nice_ticks(0.0, float(max(counts)))
    scale_y = LinearScale(0.0, max(ticks[-1], max(counts)), plot.bottom, plot.top)
    scale_x = LinearScale(low, high, plot.left, plot.right) if high > low else None
    body = [heading(title), *value_axis(plot, scale_y, ticks, COUNT)]
    slot = plot.width / bins
    for index, count in enumerate(counts):
        x = plot.left + slot * index
        body.append(rect(x + 1, scale_y(count), slot - 2, plot.bottom - scale_y(count), fill=PALETTE[0],
                         extra=f' data-items="{count}"'))
    body.append(text(plot.left, plot.bottom + 18, format_value(low, unit, short=True), size=SMALL_FONT,
                     colour=MUTED_COLOUR))
    body.append(text(plot.right, plot.bottom + 18, format_value(high, unit, short=True), anchor="end",
                     size=SMALL_FONT, colour=MUTED_COLOUR))
    for row, (name, value, dash) in enumerate(marks):
        x = scale_x(value) if scale_x else plot.left + plot.width / 2
        body.append(line(x, plot.top - 4, x, plot.bottom, colour=PALETTE[1], width=2, dash=dash))
        # One row each, so three close percentiles never print over each other.
        body.append(text(min(max(x, plot.left + 30), plot.right - 30), 40 + 12 * row,
                         f"{name} {format_value(value, unit, short=True)}", anchor="middle", size=SMALL_FONT - 1,
                         colour=TEXT_COLOUR))
    description = (f"{title}: histogram of {len(measured)} values in {bins} bins from "
                   f"{format_value(low, unit)} to {format_value(high, unit)}; "
                   + ", ".join(f"{name} {format_value(value, unit)}" for name, value, _ in marks) + ".")
    if left_out:
        description += f" {left_out} values were left out because they were missing, negative or not finite."
    return Chart(identity, KIND, title, description, frame(KIND, identity, title, description, body), table)
