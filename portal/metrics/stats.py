"""Order statistics the metrics share, so every page and API computes a median the same way."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], share: float) -> float | None:
    """The `share` (0–1) percentile by linear interpolation between closest ranks (numpy's default,
    so a spreadsheet's PERCENTILE.INC gives the same number); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    position = (len(ordered) - 1) * share
    lower, upper = math.floor(position), math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def median(values: Iterable[float]) -> float | None:
    """The middle value (mean of the two middle ones for an even count); None for no values."""
    return percentile(values, 0.5)


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None
