"""Geometry checked by hand: bar lengths are proportional to the values, lines follow their points."""

from __future__ import annotations

import pytest

from portal.metrics.charts import HORIZONTAL, Series, bar_chart, line_chart
from tests.metrics.charts.svg_checks import SVG, all_text, parse, rects_with


def test_vertical_bar_heights_are_proportional_and_share_a_baseline() -> None:
    root = parse(bar_chart("Deploys", [("mon", 1), ("tue", 2), ("wed", 4)], unit="count"))
    bars = rects_with(root, "data-value")
    heights = {bar.get("data-label"): float(bar.get("height")) for bar in bars}
    assert heights["tue"] == pytest.approx(2 * heights["mon"], rel=1e-3)
    assert heights["wed"] == pytest.approx(4 * heights["mon"], rel=1e-3)
    bottoms = {round(float(bar.get("y")) + float(bar.get("height")), 1) for bar in bars}
    assert len(bottoms) == 1
    assert {"1", "2", "4"} <= set(all_text(root).split())


def test_horizontal_bar_widths_are_proportional() -> None:
    root = parse(bar_chart("Teams", [("a", 3), ("b", 6)], orientation=HORIZONTAL))
    widths = {bar.get("data-label"): float(bar.get("width")) for bar in rects_with(root, "data-value")}
    assert widths["b"] == pytest.approx(2 * widths["a"], rel=1e-3)


def test_negative_bars_grow_down_from_zero() -> None:
    root = parse(bar_chart("Change", [("up", 2), ("down", -2)]))
    bars = {bar.get("data-label"): bar for bar in rects_with(root, "data-value")}
    up, down = bars["up"], bars["down"]
    assert float(up.get("height")) == pytest.approx(float(down.get("height")), rel=1e-3)
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")), abs=0.01)


def test_a_missing_value_keeps_its_place_and_says_so() -> None:
    chart = bar_chart("Gaps", [("a", 1), ("b", None)])
    assert "no value" in all_text(parse(chart))
    assert chart.table.rows == (("a", 1.0), ("b", None))


def test_an_unknown_orientation_is_refused() -> None:
    with pytest.raises(ValueError):
        bar_chart("x", [("a", 1)], orientation="diagonal")


def test_previous_window_series_is_dashed_and_named() -> None:
    chart = line_chart("Lead time", ["w1", "w2"], [Series("this window", (10, 20)),
                                                   Series("previous window", (30, 40), previous=True)],
                       unit="duration")
    root = parse(chart)
    groups = {group.get("data-series"): group for group in root.iter(f"{SVG}g")}
    current = groups["this window"].find(f"{SVG}path")
    previous = groups["previous window"].find(f"{SVG}path")
    assert current.get("stroke-dasharray") is None
    assert previous.get("stroke-dasharray")
    assert chart.table.columns == ("period", "this window", "previous window")
    assert chart.table.rows[1] == ("w2", 20.0, 40.0)
    assert "latest 20 seconds" in chart.description


def test_line_points_rise_with_their_values() -> None:
    root = parse(line_chart("Rising", ["a", "b", "c"], [Series("s", (1, 2, 3))]))
    path = next(root.iter(f"{SVG}g")).find(f"{SVG}path").get("d")
    ys = [float(pair.split()[1]) for pair in path[1:].split("L")]
    assert ys[0] > ys[1] > ys[2]  # SVG's y grows downwards
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.02)


def test_a_gap_splits_the_line() -> None:
    root = parse(line_chart("Gap", ["a", "b", "c", "d"], [Series("s", (1, 2, None, 4))]))
    group = next(root.iter(f"{SVG}g"))
    lines = [path for path in group.findall(f"{SVG}path") if path.get("fill") == "none"]
    assert len(lines) == 1  # a-b joined; d alone gets only its marker
    assert len(group.findall(f"{SVG}path")) == 1 + 3
