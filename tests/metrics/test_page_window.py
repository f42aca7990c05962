from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from portal.errors import CatalogApiError
from portal.metrics.page_window import page_window

NOW = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)


def test_presets_end_at_the_end_of_today_and_compare_with_the_window_before():
    chosen = page_window("7d", None, None, "previous", now=NOW)
    assert (chosen.window.start, chosen.window.end) == (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    assert chosen.previous.end == chosen.window.start and chosen.previous.start == datetime(2026, 11, 23, tzinfo=UTC)
    assert chosen.as_json() == {"window": "7d", "from": "2026-11-30T00:00:00Z", "until": "2026-12-07T00:00:00Z",
                                "previous": {"from": "2026-11-23T00:00:00Z", "until": "2026-11-30T00:00:00Z"}}


def test_default_is_30_days_without_comparison():
    chosen = page_window(None, None, None, None, now=NOW)
    assert chosen.preset == "30d" and chosen.previous is None and chosen.window.weeks == pytest.approx(30 / 7)


def test_custom_windows_keep_their_dates_in_the_links():
    chosen = page_window(None, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", None, now=NOW)
    assert chosen.preset == "custom"
    assert parse_qs(chosen.query()) == {"window": ["custom"], "from": ["2026-01-01T00:00:00Z"],
                                        "until": ["2026-02-01T00:00:00Z"]}
    # Switching to a preset drops the custom dates; the comparison choice is kept.
    links = {link["id"]: parse_qs(link["query"]) for link in page_window("custom", "2026-01-01", "2026-02-01", "previous",
                                                                          now=NOW).presets()}
    assert links["90d"] == {"window": ["90d"], "compare": ["previous"]}


@pytest.mark.parametrize(("window", "from_", "until", "compare"), [
    ("14d", None, None, None), ("custom", "2026-03-01", "2026-02-01", None), ("7d", None, None, "yesterday"),
    ("custom", "not-a-date", None, None),
])
def test_bad_windows_are_400(window, from_, until, compare):
    with pytest.raises(CatalogApiError) as refused:
        page_window(window, from_, until, compare, now=NOW)
    assert refused.value.status == 400
