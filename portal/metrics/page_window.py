"""The time window of the metrics pages, kept in the URL: `?window=7d|30d|90d|365d` or
`?window=custom&from=…&until=…`, and `&compare=previous` for the window just before it.

Pages and their JSON twins read the same parameters, so a link to a page (or a chart's data) shows
the same numbers to the next person who opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from portal.errors import CatalogApiError
from portal.metrics.window import Window, window_from_query

PRESETS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
DEFAULT_PRESET = "30d"


@dataclass(frozen=True)
class PageWindow:
    """The chosen window, how it was chosen (a preset or `custom`), and whether to compare."""

    window: Window
    preset: str
    compare: bool

    @property
    def previous(self) -> Window | None:
        return self.window.previous() if self.compare else None

    def query(self, **changes: str | None) -> str:
        """The query string for this window with `changes` applied (None drops a parameter)."""
        params: dict[str, str | None] = {"window": self.preset}
        if self.preset == "custom":
            params.update(self.window.iso())
        if self.compare:
            params["compare"] = "previous"
        params.update(changes)
        return urlencode({key: value for key, value in params.items() if value is not None})

    def presets(self) -> list[dict]:
        """The picker's links: each preset with its query string and whether it is the current one."""
        return [{"id": preset, "label": f"{days} days", "query": self.query(window=preset, **{"from": None, "until": None}),
                 "current": preset == self.preset} for preset, days in PRESETS.items()]

    def as_json(self) -> dict:
        answer = {"window": self.preset, **self.window.iso()}
        if self.previous is not None:
            answer["previous"] = self.previous.iso()
        return answer


def page_window(window: str | None, from_: str | None, until: str | None, compare: str | None,
                now: datetime | None = None) -> PageWindow:
    """Read the page's window parameters; unknown presets or a broken custom window are a 400 that
    says which values are accepted."""
    now = now or datetime.now(UTC)
    preset = (window or "").strip().lower() or ("custom" if from_ or until else DEFAULT_PRESET)
    if compare not in (None, "", "previous", "none"):
        raise CatalogApiError(400, "compare must be 'previous' or left out")
    wants_compare = compare == "previous"
    if preset in PRESETS:
        # Whole days up to the end of today, so a page opened twice in one day shows the same numbers.
        end = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return PageWindow(Window(end - timedelta(days=PRESETS[preset]), end), preset, wants_compare)
    if preset != "custom":
        raise CatalogApiError(400, f"window must be one of {', '.join(PRESETS)} or custom (with from and until)")
    return PageWindow(window_from_query(from_, until, now=now), "custom", wants_compare)
