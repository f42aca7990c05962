"""Axes, grid lines and the legend, shared by the line, bar, area and histogram charts."""

from __future__ import annotations

from dataclasses import dataclass

from portal.metrics.charts.formatting import format_value
from portal.metrics.charts.scale import LinearScale
from portal.metrics.charts.svg import GRID_COLOUR, MUTED_COLOUR, SMALL_FONT, clip, line, num, text


@dataclass(frozen=True)
class Plot:
    """The rectangle inside the margins where data is drawn."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def value_axis(plot: Plot, scale: LinearScale, ticks: list[float], unit: str) -> list[str]:
    """Horizontal grid lines with their values at the left."""
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(line(plot.left, y, plot.right, y, colour=GRID_COLOUR, dash=None if tick == 0 else "2 3"))
        parts.append(text(plot.left - 6, y + 4, format_value(tick, unit, short=True), anchor="end",
                          size=SMALL_FONT, colour=MUTED_COLOUR))
    return parts


def category_labels(plot: Plot, labels: list[str], positions: list[float], *, most: int = 6) -> list[str]:
    """Labels under the plot, thinned to at most `most` so they never overlap at 320 px."""
    if not labels:
        return []
    stride = max(1, -(-len(labels) // most))
    chosen = list(range(0, len(labels), stride))
    if chosen[-1] != len(labels) - 1 and len(labels) > 1 and len(labels) - 1 - chosen[-1] >= stride / 2:
        chosen.append(len(labels) - 1)
    limit = max(4, int(plot.width / max(len(chosen), 1) / 8))
    return [text(positions[index], plot.bottom + 18, clip(labels[index], limit), anchor="middle",
                 size=SMALL_FONT, colour=MUTED_COLOUR) for index in chosen]


def legend(entries: list[tuple[str, str, str | None, str]], x: float, y: float, width: float) -> list[str]:
    """One row per entry (name, paint, detail, swatch): a "line" sample (detail = its dash pattern) or a
    "box" sample (paint = its fill, detail = its outline colour), then the name."""
    parts = []
    column_width = width / 2 if len(entries) > 1 else width
    for index, (name, colour, dash, swatch) in enumerate(entries):
        row, column = divmod(index, 2)
        left, top = x + column * column_width, y + row * 18
        if swatch == "box":
            parts.append(f'<rect x="{num(left)}" y="{num(top - 9)}" width="14" height="10" fill="{colour}" '
                         f'stroke="{dash or colour}"/>')
        else:
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{num(left)}" y1="{num(top - 4)}" x2="{num(left + 22)}" y2="{num(top - 4)}" '
                         f'stroke="{colour}" stroke-width="3"{dashed}/>')
        parts.append(text(left + 28, top, clip(name, int(column_width / 8)), size=SMALL_FONT))
    return parts


def legend_height(count: int) -> float:
    return 0 if count == 0 else 18 * (-(-count // 2)) + 6
