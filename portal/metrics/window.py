"""The time window every metric is computed over: [from, until), in UTC, from the query string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.errors import CatalogApiError
from portal.flow.query import parse_api_time

DEFAULT_DAYS = 30
# Flow data starts with Unix time, and a window's neighbours must stay representable: nothing outside.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# A window longer than this is almost certainly a typo (year 20260 …) and would scan everything.
MAX_WINDOW = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Window:
    """Half-open [start, end): an event at `end` belongs to the next window, so split windows add up."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def weeks(self) -> float:
        return self.seconds / (7 * 86_400)

    def contains(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def previous(self) -> Window:
        """The window of the same length just before this one (for trend comparisons)."""
        return Window(self.start - (self.end - self.start), self.start)

    def iso(self) -> dict[str, str]:
        return {"from": _iso(self.start), "until": _iso(self.end)}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_from_query(from_: str | None, until: str | None, *, now: datetime | None = None,
                      default_days: int = DEFAULT_DAYS) -> Window:
    """`from`/`until` as given (ISO-8601); missing ends default to the last `default_days` up to now.
    Unparseable times, an empty or inverted window, or one longer than MAX_WINDOW are a 400 naming why."""
    end = parse_api_time(until, "until") or (now or datetime.now(UTC))
    try:
        start = parse_api_time(from_, "from") or (end - timedelta(days=default_days))
    except OverflowError:  # `until` in the first days of year 1: there is no window before it
        start = None
    if start is not None and start >= end:
        raise CatalogApiError(400, "from must be before until")
    if start is not None and end - start > MAX_WINDOW:
        raise CatalogApiError(400, f"the window may span at most {MAX_WINDOW.days} days")
    if start is None or start < EARLIEST or end > LATEST:
        raise CatalogApiError(400, "from and until must lie between 1970-01-01 and 9000-01-01")
    return Window(start, end)
