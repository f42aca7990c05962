"""Histogram bins and percentile markers, sparklines, trend arrows and tier badges."""

from __future__ import annotations

import pytest

from portal.metrics.charts import histogram, sparkline, tier_badge, trend
from portal.metrics.charts.sparkline import BETTER, DOWN, FLAT, NEUTRAL, UP, WORSE
from portal.metrics.stats import percentile
from tests.metrics.charts.svg_checks import SVG, all_text, parse, rects_with

HOUR = 3_600


def test_histogram_counts_each_value_in_its_bin() -> None:
    values = [0, 1 * HOUR, 2 * HOUR, 2 * HOUR, 9 * HOUR, 10 * HOUR]
    chart = histogram("Flow time", values, bins=5)
    counts = [row[2] for row in chart.table.rows]
    # Bins of two hours from 0 to 10 h; the largest value belongs to the last bin.
    assert counts == [2, 2, 0, 0, 2]
    assert [row[0] for row in chart.table.rows] == [0, 2 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR]
    heights = [float(bar.get("height")) for bar in rects_with(parse(chart), "data-items")]
    assert heights[0] == pytest.approx(heights[1]) and heights[2] == 0


def test_histogram_marks_p50_p85_p95_at_their_values() -> None:
    values = [minutes * 60 for minutes in range(1, 101)]
    chart = histogram("Flow time", values)
    text = all_text(parse(chart))
    for share, name in ((0.5, "p50"), (0.85, "p85"), (0.95, "p95")):
        assert name in text
        assert name in chart.description
    assert f"p50 {_short(percentile(values, 0.5))}" in text
    assert f"p95 {_short(percentile(values, 0.95))}" in text


def _short(seconds: float) -> str:
    from portal.metrics.charts.formatting import short_seconds

    return short_seconds(seconds)


def test_histogram_leaves_out_what_is_not_a_duration_and_says_so() -> None:
    chart = histogram("Flow time", [60, -5, float("nan"), None, 120])
    assert sum(row[2] for row in chart.table.rows) == 2
    assert "3 values were left out" in chart.description


def test_trend_knows_which_way_is_better() -> None:
    assert trend(80, 100, "lead_time") == trend(80, 100, lower_is_better=True)
    assert (trend(80, 100, "lead_time").direction, trend(80, 100, "lead_time").verdict) == (DOWN, BETTER)
    assert (trend(120, 100, "lead_time").direction, trend(120, 100, "lead_time").verdict) == (UP, WORSE)
    assert trend(120, 100, "deployment_frequency").verdict == BETTER
    assert trend(80, 100, "adoption").verdict == WORSE
    assert trend(120, 100, "something_unknown").verdict == NEUTRAL
    assert trend(102, 100, "lead_time").direction == FLAT
    assert trend(None, 100, "lead_time").direction == FLAT
    assert trend(float("nan"), 1, "lead_time").verdict == NEUTRAL


def test_trend_change_and_words() -> None:
    falling = trend(75, 100, "lead_time")
    assert falling.change == pytest.approx(-0.25)
    assert falling.arrow == "↓"
    assert falling.label == "down 25% on the previous window, better"
    html = str(falling.html())
    assert 'aria-hidden="true">↓' in html and "visually-hidden" in html
    assert trend(5, 0, "adoption").change is None  # from zero, no percentage to give
    assert trend(5, 0, "adoption").label == "up on the previous window, better"


def test_sparkline_marks_the_last_value_and_describes_the_range() -> None:
    chart = sparkline("Adoption", [1, 3, 2, 5], unit="count")
    root = parse(chart)
    assert root.find(f"{SVG}circle") is not None
    assert "from 1 to 5" in chart.description and "highest 5" in chart.description
    assert chart.table.rows[-1] == ("4", 5.0)


@pytest.mark.parametrize(("tier", "label", "dots"), [("elite", "Elite", 4), ("HIGH", "High", 3),
                                                      ("medium", "Medium", 2), ("low", "Low", 1),
                                                      (None, "No tier", 0), ("<b>", "No tier", 0)])
def test_tier_badge_writes_the_tier(tier, label, dots) -> None:  # noqa: ANN001
    chart = tier_badge(tier, metric="Lead time for changes")
    root = parse(chart)
    assert all_text(root) == label
    filled = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == c.get("stroke")]
    assert len(filled) == dots
    assert chart.title == f"Lead time for changes: {label}"
