"""Small sparklines for the portfolio table, and trend arrows that know whether up is better."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.formatting import NUMBER, format_value
from portal.metrics.charts.scale import LinearScale
from portal.metrics.charts.svg import PALETTE, Chart, chart_id_for, finite_number, num, xml_text

KIND = "sparkline"
SPARK_WIDTH, SPARK_HEIGHT = 120, 32
UP, DOWN, FLAT = "up", "down", "flat"
BETTER, WORSE, NEUTRAL = "better", "worse", "neutral"
# Which direction is good, per metric: lead time going down is better, adoption going up is better.
LOWER_IS_BETTER = frozenset({
    "lead_time", "lead_time_p50", "lead_time_p85", "flow_time", "change_failure_rate", "recovery_time",
    "time_to_restore", "flow_load", "wait_time", "sla_breaches",
})
HIGHER_IS_BETTER = frozenset({
    "deployment_frequency", "adoption", "flow_efficiency", "flow_velocity", "sla_compliance", "satisfaction",
    "time_saved", "activity_ratio", "percent_complete_accurate",
})
MAX_POINTS = 400  # wider than the sparkline has pixels; the latest are kept
FLAT_SHARE = 0.05  # changes within ±5 % of the previous value are noise, not a trend
_ARROWS = {UP: "↑", DOWN: "↓", FLAT: "→"}
_VERDICT_COLOURS = {BETTER: "#08735a", WORSE: "#b3440d", NEUTRAL: "#57606a"}


@dataclass(frozen=True)
class Trend:
    """How a metric moved against the previous window, and whether that is good news."""

    direction: str
    verdict: str
    change: float | None  # relative change (0.25 = +25 %), None when the previous value was zero or unknown

    @property
    def arrow(self) -> str:
        return _ARROWS[self.direction]

    @property
    def colour(self) -> str:
        return _VERDICT_COLOURS[self.verdict]

    @property
    def label(self) -> str:
        """Words for the arrow, for screen readers and the title attribute: "down 20 %, better"."""
        if self.direction == FLAT:
            return "about the same as the previous window"
        amount = f" {abs(self.change) * 100:.0f}%" if self.change is not None and abs(self.change) < 100 else ""
        verdict = "" if self.verdict == NEUTRAL else f", {self.verdict}"
        return f"{self.direction}{amount} on the previous window{verdict}"

    def html(self) -> Markup:
        """The arrow with its words: the arrow is hidden from screen readers, which read the label."""
        return Markup(f'<span class="trend trend-{self.verdict}" title="{xml_text(self.label)}">'
                      f'<span aria-hidden="true">{self.arrow}</span>'
                      f'<span class="visually-hidden">{xml_text(self.label)}</span></span>')


def trend(current: object, previous: object, metric: str | None = None, *, lower_is_better: bool | None = None) -> Trend:
    """Compare this window's value with the previous one; `metric` (or `lower_is_better`) says which way is good."""
    now, before = finite_number(current), finite_number(previous)
    if now is None or before is None:
        return Trend(FLAT, NEUTRAL, None)
    if lower_is_better is None and metric is not None:
        lower_is_better = True if metric in LOWER_IS_BETTER else False if metric in HIGHER_IS_BETTER else None
    change = (now - before) / abs(before) if before != 0 and math.isfinite(now - before) else None
    if now == before or (change is not None and abs(change) < FLAT_SHARE):
        return Trend(FLAT, NEUTRAL, change)
    direction = UP if now > before else DOWN
    if lower_is_better is None:
        return Trend(direction, NEUTRAL, change)
    good = (direction == DOWN) == lower_is_better
    return Trend(direction, BETTER if good else WORSE, change)


def sparkline(title: str, values: Sequence[object], *, unit: str = NUMBER, chart_id: str | None = None,
              labels: Sequence[object] | None = None) -> Chart:
    """A tiny line without axes, its last point marked; still an image with a title and a description."""
    points = [finite_number(value) for value in list(values)[-MAX_POINTS:]]
    names = [str(label) for label in list(labels)[-MAX_POINTS:]] if labels is not None else \
        [str(i + 1) for i in range(len(points))]
    table = ChartTable(("period", "value"), tuple(zip(names, points)), (None, unit))
    identity = chart_id_for(KIND, title, chart_id)
    known = [(index, value) for index, value in enumerate(points) if value is not None]
    if not known:
        description = f"{title}: no data in this window."
        body = (f'<line x1="4" y1="{SPARK_HEIGHT / 2:g}" x2="{SPARK_WIDTH - 4}" y2="{SPARK_HEIGHT / 2:g}" '
                f'stroke="#d0d7de" stroke-dasharray="3 3"/>')
        return Chart(identity, KIND, title, description, _small_frame(identity, title, description, body), table)
    low, high = min(v for _, v in known), max(v for _, v in known)
    scale_y = LinearScale(low, high, SPARK_HEIGHT - 5, 5)
    step = (SPARK_WIDTH - 10) / max(len(points) - 1, 1)
    coordinates = [(5 + step * index, scale_y(value)) for index, value in known]
    if len(points) == 1:
        coordinates = [(SPARK_WIDTH / 2, scale_y(known[0][1]))]
    path = "M" + "L".join(f"{num(x)} {num(y)}" for x, y in coordinates)
    last_x, last_y = coordinates[-1]
    body = (f'<path d="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2" stroke-linejoin="round"/>'
            f'<circle cx="{num(last_x)}" cy="{num(last_y)}" r="3" fill="{PALETTE[0]}"/>')
    description = (f"{title}: {len(known)} values, from {format_value(known[0][1], unit)} to "
                   f"{format_value(known[-1][1], unit)}; lowest {format_value(low, unit)}, "
                   f"highest {format_value(high, unit)}.")
    return Chart(identity, KIND, title, description, _small_frame(identity, title, description, body), table)


def _small_frame(identity: str, title: str, description: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-sparkline" id="{identity}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" '
        f'aria-labelledby="{identity}-title {identity}-desc"><title id="{identity}-title">{xml_text(title)}</title>'
        f'<desc id="{identity}-desc">{xml_text(description)}</desc>{body}</svg>')
