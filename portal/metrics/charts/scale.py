"""Linear scales and round tick values that stay finite for any finite input, even ±1e308."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearScale:
    """Maps the domain [low, high] onto the range [start, end] of the drawing."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        # Halving first keeps (high - low) finite when the domain spans most of the double range.
        span = self.high / 2 - self.low / 2
        if span <= 0:
            return (self.start + self.end) / 2
        share = (value / 2 - self.low / 2) / span
        return self.start + share * (self.end - self.start)


def domain(values: list[float], *, include_zero: bool = True) -> tuple[float, float]:
    """The low and high of the values (with zero, for bars and counts); an all-equal set gets some room."""
    low, high = min(values), max(values)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if low == high:
        padding = abs(high) or 1.0
        low, high = (low - padding, high + padding) if not include_zero else (
            (low, high + padding) if high >= 0 else (low - padding, high))
    return low, high


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About `count` round values (1, 2, 2.5 or 5 × 10ⁿ) covering [low, high]; the ends themselves
    when rounding would leave the double range."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low, high] if high > low else [low]
    # Divided first, so the difference stays finite even for ±1e308.
    raw_step = high / count - low / count
    if not math.isfinite(raw_step) or raw_step <= 0:
        return [low, high]
    magnitude = 10.0 ** math.floor(math.log10(raw_step))
    step = next((factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= raw_step),
                10 * magnitude)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    if not (math.isfinite(first) and math.isfinite(last)):
        return [low, high]
    ticks = []
    tick = first
    while tick <= last + step / 2 and len(ticks) <= count + 3:
        ticks.append(0.0 if abs(tick) < step * 1e-9 else tick)
        tick = first + step * len(ticks)
        if not math.isfinite(tick):
            break
    return ticks
