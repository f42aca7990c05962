"""ISO-8601 durations: the forms capabilities and people write, and the nonsense refused."""

from __future__ import annotations

import pytest

from portal.requests.durations import DurationError, duration_seconds_or_none, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT15M", 900), ("PT16H", 57_600), ("P2D", 172_800), ("P1DT12H", 129_600), ("P2W", 1_209_600),
    ("PT1.5H", 5_400), ("PT1,5M", 90), ("PT0S", 0), ("P1DT2H3M4S", 93_784), ("P0.5W", 302_400),
])
def test_durations_are_read_in_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [
    "", "P", "PT", "P1DT", "1D", "-P1D", "P-1D", "P1D ", "p1d", "P1W2D", "P1.5DT2H", "PT1H30", "P1H",
    "PT1M1H", "P\u0661D", "P" + "9" * 200 + "D", "PT1.H",
])
def test_nonsense_is_refused(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1Y", "P2M", "P1Y2M3D"])
def test_years_and_months_are_refused_with_a_hint(text):
    with pytest.raises(DurationError, match="days or weeks"):
        parse_duration(text)


def test_descriptor_values_that_are_not_durations_are_none():
    assert duration_seconds_or_none("P3D") == 259_200
    assert duration_seconds_or_none("three days") is None
    assert duration_seconds_or_none(None) is None
    assert duration_seconds_or_none(5) is None
