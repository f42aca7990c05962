"""Stacked area chart for the cumulative flow diagram: per day, the items in each stage."""

from __future__ import annotations

from collections.abc import Sequence

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.axes import Plot, category_labels, legend, legend_height, value_axis
from portal.metrics.charts.formatting import COUNT, format_value
from portal.metrics.charts.patterns import pattern_defs, pattern_fill
from portal.metrics.charts.scale import LinearScale, nice_ticks
from portal.metrics.charts.svg import (
    HEIGHT,
    PALETTE,
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

KIND = "cfd"
# Counts are items; beyond a quadrillion a value is garbage, and capping keeps every stacked sum finite.
MAX_COUNT = 1e15
MAX_DAYS = 1_100  # three years of days; the latest are kept
MAX_STAGES = 12


def cumulative_flow(title: str, days: Sequence[object], stages: Sequence[tuple[str, Sequence[object]]], *,
                    chart_id: str | None = None) -> Chart:
    """`stages` in flow order (first stage first), each with one count per day. The last stage is drawn
    at the bottom, as a cumulative flow diagram is read: done grows from below, new work on top.
    Counts below zero or missing count as zero (and the description says how many there were)."""
    every_day = [str(day) for day in days]
    labels = every_day[-MAX_DAYS:]
    skipped = len(every_day) - len(labels)
    cleaned: list[tuple[str, list[float]]] = []
    dropped = 0
    for name, counts in list(stages)[:MAX_STAGES]:
        counts = list(counts)[skipped:]
        values = []
        for index in range(len(labels)):
            number = finite_number(counts[index]) if index < len(counts) else None
            if number is None or number < 0:
                dropped += 1
                number = 0.0
            values.append(min(number, MAX_COUNT))
        cleaned.append((str(name), values))
    table = ChartTable(("day", *(name for name, _ in cleaned)),
                       tuple((label, *(values[i] for _, values in cleaned)) for i, label in enumerate(labels)),
                       (None, *(COUNT for _ in cleaned)))
    totals = [sum(values[i] for _, values in cleaned) for i in range(len(labels))]
    if not labels or not cleaned or max(totals, default=0) <= 0:
        return empty_chart(KIND, title, chart_id, table=table)
    identity = chart_id_for(KIND, title, chart_id)
    plot = Plot(left=64, top=36, right=WIDTH - 16, bottom=HEIGHT - 34 - legend_height(len(cleaned)))
    ticks = nice_ticks(0.0, max(totals))
    scale_y = LinearScale(0.0, max(ticks[-1], max(totals)), plot.bottom, plot.top)
    positions = [plot.left + plot.width / 2] if len(labels) == 1 else [
        plot.left + plot.width * index / (len(labels) - 1) for index in range(len(labels))]
    body = [heading(title), *value_axis(plot, scale_y, ticks, COUNT)]
    baseline = [0.0] * len(labels)
    for index in reversed(range(len(cleaned))):
        name, values = cleaned[index]
        upper = [base + value for base, value in zip(baseline, values)]
        body.append(_band(name, positions, baseline, upper, scale_y, pattern_fill(identity, index),
                          PALETTE[index % len(PALETTE)]))
        baseline = upper
    body.extend(category_labels(plot, labels, positions))
    entries = [(name, pattern_fill(identity, index), PALETTE[index % len(PALETTE)], "box")
               for index, (name, _) in enumerate(cleaned)]
    body.extend(legend(entries, plot.left, plot.bottom + 42, plot.width))
    description = _describe(title, labels, cleaned, dropped)
    svg = frame(KIND, identity, title, description, body, defs=pattern_defs(identity, len(cleaned)))
    return Chart(identity, KIND, title, description, svg, table)


def _band(name: str, positions: list[float], lower: list[float], upper: list[float], scale_y: LinearScale,
          fill: str, outline: str) -> str:
    if len(positions) == 1:  # one day: a column, so the stack is still visible
        x = positions[0]
        positions, lower, upper = [x - 20, x + 20], lower * 2, upper * 2
    top = [f"{num(x)} {num(scale_y(value))}" for x, value in zip(positions, upper)]
    bottom = [f"{num(x)} {num(scale_y(value))}" for x, value in zip(reversed(positions), reversed(lower))]
    return (f'<path class="band" data-stage="{xml_text(name)}" d="M{"L".join(top + bottom)}Z" fill="{fill}" '
            f'stroke="{outline}" stroke-width="1"/>')


def _describe(title: str, labels: list[str], stages: list[tuple[str, list[float]]], dropped: int) -> str:
    last = ", ".join(f"{name} {format_value(values[-1], COUNT)}" for name, values in stages)
    text = (f"{title}: cumulative flow diagram of {len(stages)} stages over {len(labels)} days from "
            f"{labels[0]} to {labels[-1]}. On {labels[-1]}: {last}.")
    return text + (f" {dropped} missing or negative counts were drawn as zero." if dropped else "")
