"""What charts draw: named series of (x label, value) points, and how each series looks."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.metrics.charts.svg import PALETTE

# Dash patterns and marker shapes tell series apart without colour.
DASHES = (None, "8 4", "2 4", "12 4 2 4", "4 4", "1 6")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "circle")
PREVIOUS_DASH = "6 5"


@dataclass(frozen=True)
class Series:
    """One line: its name, one value per x label (None = no value), and whether it is the previous window."""

    name: str
    values: tuple[float | None, ...]
    previous: bool = False
    style: int = field(default=0, compare=False)

    @property
    def colour(self) -> str:
        return PALETTE[self.style % len(PALETTE)]

    @property
    def dash(self) -> str | None:
        return PREVIOUS_DASH if self.previous else DASHES[self.style % len(DASHES)]

    @property
    def marker(self) -> str:
        return MARKERS[self.style % len(MARKERS)]


def marker_path(shape: str, x: float, y: float, size: float = 4.5) -> str:
    """An SVG path `d` for a marker centred on (x, y)."""
    from portal.metrics.charts.svg import num

    if shape == "square":
        return f"M{num(x - size)} {num(y - size)}h{num(2 * size)}v{num(2 * size)}h{num(-2 * size)}Z"
    if shape == "triangle":
        return f"M{num(x)} {num(y - size)}L{num(x + size)} {num(y + size)}L{num(x - size)} {num(y + size)}Z"
    if shape == "diamond":
        return f"M{num(x)} {num(y - size)}L{num(x + size)} {num(y)}L{num(x)} {num(y + size)}L{num(x - size)} {num(y)}Z"
    if shape == "cross":
        return (f"M{num(x - size)} {num(y - size)}L{num(x + size)} {num(y + size)}"
                f"M{num(x + size)} {num(y - size)}L{num(x - size)} {num(y + size)}")
    return (f"M{num(x - size)} {num(y)}a{num(size)} {num(size)} 0 1 0 {num(2 * size)} 0"
            f"a{num(size)} {num(size)} 0 1 0 {num(-2 * size)} 0")
