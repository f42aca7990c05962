"""Numbers for people: durations in words (through portal.web.humanize), counts and shares."""

from __future__ import annotations

import math

from portal.web.humanize import human_duration

DURATION, COUNT, PERCENT, NUMBER = "duration", "count", "percent", "number"
UNITS = (DURATION, COUNT, PERCENT, NUMBER)
_STEPS = (("D", 86_400), ("H", 3_600), ("M", 60), ("S", 1))


def iso_duration(seconds: float, parts: int = 2) -> str:
    """Seconds as an ISO-8601 duration in its `parts` largest adjacent units (93 784 -> `P1DT2H`), rounded down."""
    amounts = []
    remaining = int(abs(seconds))
    for unit, size in _STEPS:
        amount, remaining = divmod(remaining, size)
        amounts.append((unit, amount))
    first = next((index for index, (_, amount) in enumerate(amounts) if amount), None)
    if first is None:
        return "PT0S"
    # Adjacent units only: "1 day 5 minutes" would hide the hours in between.
    kept = [(unit, amount) for unit, amount in amounts[first:first + parts] if amount]
    days = "".join(f"{amount}{unit}" for unit, amount in kept if unit == "D")
    clock = "".join(f"{amount}{unit}" for unit, amount in kept if unit != "D")
    return "P" + days + (f"T{clock}" if clock else "")


def human_seconds(seconds: float) -> str:
    """93 784 -> "1 day 2 hours"; below a second -> "0 seconds"."""
    if not math.isfinite(seconds):
        return "—"
    if abs(seconds) >= 1e12:  # beyond ~30 000 years, hours and minutes are noise
        return f"{'−' if seconds < 0 else ''}{abs(seconds) / 86_400:.3g} days"
    words = human_duration(iso_duration(seconds))
    if words == "PT0S":
        return "0 seconds"
    return f"−{words}" if seconds < 0 else words


def short_seconds(seconds: float) -> str:
    """A compact duration for axis ticks and tight labels: 45s, 12m, 3.5h, 2.1d."""
    if not math.isfinite(seconds):
        return "—"
    size = abs(seconds)
    sign = "−" if seconds < 0 else ""
    for suffix, unit in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if size >= unit:
            return f"{sign}{_compact(size / unit)}{suffix}"
    return f"{sign}{_compact(size)}s"


def _compact(value: float) -> str:
    if value >= 1e6:
        return f"{value:.3g}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.0f}"


def format_value(value: float | None, unit: str = NUMBER, *, short: bool = False) -> str:
    """A value as text in its unit; missing values are a dash."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == DURATION:
        return short_seconds(value) if short else human_seconds(value)
    if unit == PERCENT:
        return f"{value * 100:.0f}%" if abs(value) < 1e13 else f"{value * 100:.3g}%"
    sign = "−" if value < 0 else ""
    if unit == COUNT and abs(value) < 1e6 and float(value).is_integer():
        return f"{sign}{abs(value):,.0f}"
    return sign + _compact(abs(value))
