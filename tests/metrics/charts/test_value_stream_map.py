"""The value stream map drawing shows exactly the numbers of the value-stream answer."""

from __future__ import annotations

from portal.metrics.charts import value_stream_map
from portal.metrics.charts.formatting import short_seconds
from tests.metrics.charts.svg_checks import SVG, all_text, assert_finite, parse

HOUR, DAY = 3_600, 86_400
ANSWER = {
    "stages": [
        {"id": "submitted", "type": "wait", "items": 12, "leadTime": 2 * HOUR, "processTime": 0,
         "percentCompleteAccurate": 1.0},
        {"id": "awaiting-approval", "type": "wait", "items": 10, "leadTime": 3 * DAY, "processTime": 0,
         "percentCompleteAccurate": 0.9},
        {"id": "fulfilling", "type": "work", "items": 10, "leadTime": 5 * HOUR, "processTime": 4 * HOUR,
         "percentCompleteAccurate": 0.8},
        {"id": "delivered", "type": "wait", "items": 9, "leadTime": DAY, "processTime": 0,
         "percentCompleteAccurate": None},
    ],
    "totals": {"leadTime": 4 * DAY + 7 * HOUR, "processTime": 4 * HOUR, "activityRatio": 4 / 103,
               "rolledPercentCompleteAccurate": 0.72},
}


def _stage_groups(root):  # noqa: ANN001, ANN202
    return {group.get("data-stage"): group for group in root.iter(f"{SVG}g") if group.get("data-stage")}


def test_each_stage_box_shows_its_pt_lt_and_accuracy() -> None:
    root = parse(value_stream_map(ANSWER))
    groups = _stage_groups(root)
    assert list(groups) == ["submitted", "awaiting-approval", "fulfilling", "delivered"]
    fulfilling = " ".join("".join(t.itertext()) for t in groups["fulfilling"].iter(f"{SVG}text"))
    assert f"PT {short_seconds(4 * HOUR)}" in fulfilling and "PT 4h" in fulfilling
    assert "LT 5h" in fulfilling and "%C&A 80%" in fulfilling and "10 items" in fulfilling
    assert "work 4h" in fulfilling and "wait 1h" in fulfilling  # the ladder: LT − PT above, PT below
    delivered = " ".join("".join(t.itertext()) for t in groups["delivered"].iter(f"{SVG}text"))
    assert "%C&A —" in delivered  # unknown accuracy is a dash, not 0 %


def test_the_biggest_wait_is_highlighted() -> None:
    root = parse(value_stream_map(ANSWER))
    groups = _stage_groups(root)
    assert "biggest-wait" in groups["awaiting-approval"].get("class")
    assert not any("biggest-wait" in group.get("class") for name, group in groups.items()
                   if name != "awaiting-approval")
    assert "biggest wait" in " ".join(groups["awaiting-approval"].itertext())


def test_totals_are_drawn_and_described() -> None:
    chart = value_stream_map(ANSWER)
    text = all_text(parse(chart))
    assert "ΣLT 4.3d" in text and "ΣPT 4h" in text
    assert "Activity ratio 4%" in text and "Rolled %C&A 72%" in text
    assert "total lead time 4 days 7 hours" in chart.description
    assert "biggest wait is in awaiting-approval: 3 days" in chart.description
    assert chart.table.rows[-1] == ("total", "", None, 4 * DAY + 7 * HOUR, 4 * HOUR, 0.72, 4 / 103)
    assert chart.table.rows[2][6] == 0.8  # the fulfilling stage's own activity ratio


def test_malformed_answers_never_break_the_drawing() -> None:
    for answer in (None, "stages", {"stages": "x"}, {"stages": []}, {"stages": [None, 5, {"id": ""}]}):
        chart = value_stream_map(answer)
        assert "No data in this window" in all_text(parse(chart))
    mixed = value_stream_map({"stages": [{"id": "ok", "leadTime": 60, "processTime": -5,
                                          "percentCompleteAccurate": 7, "items": float("inf")}, "junk"],
                              "totals": {"leadTime": float("nan"), "activityRatio": -1}})
    root = parse(mixed)
    assert_finite(root)
    assert "1 entries were not stages" in mixed.description
    assert mixed.table.rows[0][2:6] == (None, 60.0, None, None)
