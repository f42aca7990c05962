"""Scales and ticks: round values, and finite results across the whole double range."""

from __future__ import annotations

import math

import pytest

from portal.metrics.charts.scale import LinearScale, domain, nice_ticks


def test_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 97) == [0, 25, 50, 75, 100]
    assert nice_ticks(0, 8) == [0, 2, 4, 6, 8]
    assert nice_ticks(-3, 3)[0] <= -3 and nice_ticks(-3, 3)[-1] >= 3


@pytest.mark.parametrize(("low", "high"), [(0, 1e308), (-1e308, 1e308), (1e-300, 2e-300), (5, 5)])
def test_ticks_stay_finite(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks and all(math.isfinite(tick) for tick in ticks)


def test_scale_maps_the_ends_and_the_middle() -> None:
    scale = LinearScale(0, 10, 200, 0)
    assert (scale(0), scale(5), scale(10)) == (200, 100, 0)
    huge = LinearScale(-1e308, 1e308, 0, 100)
    assert huge(-1e308) == 0 and huge(1e308) == 100 and huge(0) == 50
    assert LinearScale(3, 3, 0, 100)(3) == 50  # an empty domain lands in the middle


def test_domain_gives_equal_values_some_room() -> None:
    assert domain([4, 4]) == (0, 4)  # bars grow from zero, so there is room already
    assert domain([4, 4], include_zero=False) == (0, 8)  # a flat line sits in the middle
    assert domain([0, 0]) == (0, 1)
    assert domain([-2, -2]) == (-2, 0)
    assert domain([1, 9]) == (0, 9)
