"""Durations in words through humanize, compact axis values, and colours that meet contrast."""

from __future__ import annotations

import pytest

from portal.metrics.charts.formatting import format_value, human_seconds, iso_duration, short_seconds
from portal.metrics.charts.svg import MUTED_COLOUR, PALETTE, TEXT_COLOUR


@pytest.mark.parametrize(("seconds", "iso", "words"), [
    (0, "PT0S", "0 seconds"), (59, "PT59S", "59 seconds"), (3_600, "PT1H", "1 hour"),
    (93_784, "P1DT2H", "1 day 2 hours"), (86_400 + 300, "P1D", "1 day"), (5_400, "PT1H30M", "1 hour 30 minutes"),
])
def test_durations_read_like_words(seconds, iso, words) -> None:  # noqa: ANN001
    assert iso_duration(seconds) == iso
    assert human_seconds(seconds) == words


def test_extreme_durations_stay_readable() -> None:
    assert human_seconds(-3_600) == "−1 hour"
    assert human_seconds(1e308).endswith("days")
    assert human_seconds(float("inf")) == "—"
    assert short_seconds(90) == "1.5m" and short_seconds(7_200) == "2h" and short_seconds(45) == "45s"


def test_values_in_their_units() -> None:
    assert format_value(0.425, "percent") == "42%"
    assert format_value(1234, "count") == "1,234"
    assert format_value(None, "count") == "—"
    assert format_value(-3, "count") == "−3"
    assert format_value(2.5e9, "number") == "2.5e+09"


def _luminance(colour: str) -> float:
    channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_series_colours_reach_3_to_1_and_text_4_5_to_1_on_white() -> None:
    assert all(_contrast(colour, "#ffffff") >= 3 for colour in PALETTE)
    assert _contrast(TEXT_COLOUR, "#ffffff") >= 4.5 and _contrast(MUTED_COLOUR, "#ffffff") >= 4.5


def test_tier_badge_text_reaches_4_5_to_1() -> None:
    from portal.metrics.charts.badge import TIERS, UNKNOWN

    for _, ink, paper, _ in [*TIERS.values(), UNKNOWN]:
        assert _contrast(ink, paper) >= 4.5
