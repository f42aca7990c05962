"""ISO-8601 durations as capabilities and people write them: `PnDTnHnMnS` and `PnW`."""

from __future__ import annotations

import re

# Years and months have no fixed length, so they are refused rather than guessed.
_DAYS_AND_TIME = re.compile(
    r"P(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?",
    re.ASCII,  # \d would otherwise accept any script's digits
)
_WEEKS = re.compile(r"P(?P<weeks>\d+(?:[.,]\d+)?)W", re.ASCII)
_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
MAX_TEXT_LENGTH = 100


class DurationError(ValueError):
    """Text that is not an ISO-8601 duration this portal accepts; the message says what is wrong."""


def parse_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration such as `PT15M`, `P2D`, `P1DT12H` or `P2W`."""
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT_LENGTH:
        raise DurationError("must be an ISO-8601 duration such as PT30M, PT16H, P2D or P1W")
    match = _WEEKS.fullmatch(text) or _DAYS_AND_TIME.fullmatch(text)
    if match is None:
        if re.fullmatch(r"P.*\d+[YM].*", text.split("T")[0]):
            raise DurationError(f"{text!r}: years and months have no fixed length; use days or weeks (P30D)")
        raise DurationError(f"{text!r} is not an ISO-8601 duration such as PT30M, PT16H, P2D or P1W")
    parts = {name: value for name, value in match.groupdict().items() if value is not None}
    if not parts or text.endswith("T"):
        raise DurationError(f"{text!r} names no amount; write e.g. PT30M or P2D")
    fractional = [name for name, value in parts.items() if "." in value or "," in value]
    # ISO 8601 allows a decimal fraction only on the smallest unit written.
    if fractional and fractional != [list(parts)[-1]]:
        raise DurationError(f"{text!r}: only the last number of a duration may have a fraction")
    return sum(float(value.replace(",", ".")) * _UNIT_SECONDS[name] for name, value in parts.items())


def duration_seconds_or_none(text: object) -> int | None:
    """Whole seconds of a duration from a descriptor, or None when it is missing or not one."""
    try:
        return round(parse_duration(text))  # type: ignore[arg-type]
    except DurationError:
        return None
