from datetime import UTC, datetime

import pytest

from portal.errors import CatalogApiError
from portal.metrics.stats import mean, median, percentile
from portal.metrics.window import Window, window_from_query


def test_median_of_even_count_is_mean_of_middle_two():
    assert median([40, 10, 30, 20]) == 25
    assert median([]) is None


def test_percentile_interpolates_between_ranks_like_percentile_inc():
    # PERCENTILE.INC({1,2,3,4,5}, 0.85) = 4.4 by hand: position (5-1)*0.85 = 3.4 → 4 + 0.4*(5-4)
    assert percentile([5, 1, 4, 2, 3], 0.85) == pytest.approx(4.4)
    assert percentile([7], 0.95) == 7
    with pytest.raises(ValueError):
        percentile([1], 1.5)


def test_mean():
    assert mean([1, 2, 6]) == 3
    assert mean([]) is None


def test_window_defaults_to_last_30_days_and_is_half_open():
    now = datetime(2026, 12, 6, tzinfo=UTC)
    window = window_from_query(None, None, now=now)
    assert window == Window(datetime(2026, 11, 6, tzinfo=UTC), now)
    assert window.contains(window.start) and not window.contains(window.end)
    assert window.previous().end == window.start


@pytest.mark.parametrize(("from_", "until", "reason"), [
    ("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", "before"),
    ("yesterday", None, "not a time"),
    ("2000-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "at most"),
    (None, "0001-01-02T00:00:00Z", "between 1970-01-01 and 9000-01-01"),
    ("1969-12-01T00:00:00Z", "1970-01-02T00:00:00Z", "between 1970-01-01 and 9000-01-01"),
])
def test_bad_windows_are_400_with_the_reason(from_, until, reason):
    with pytest.raises(CatalogApiError) as raised:
        window_from_query(from_, until)
    assert raised.value.status == 400 and reason in raised.value.message
