"""Every chart type stays well-formed, accessible and finite whatever data it is given."""

from __future__ import annotations

import pytest

from portal.metrics.charts import (
    HORIZONTAL,
    NO_DATA,
    Series,
    bar_chart,
    cumulative_flow,
    histogram,
    line_chart,
    sparkline,
    tier_badge,
    value_stream_map,
)
from tests.metrics.charts.svg_checks import SVG, all_text, assert_accessible, assert_finite, parse

HOSTILE = '</svg><script>alert("x")</script>&amp;'
HUGE = 1e308

DATA_SETS = {
    "empty": [],
    "one": [5.0],
    "zeros": [0.0, 0.0, 0.0],
    "all-equal": [7.0, 7.0, 7.0, 7.0],
    "huge": [HUGE, HUGE / 3, 1.0],
    "tiny": [1e-300, 2e-300],
    "negative": [-5.0, 3.0, -1e308],
    "junk": [float("nan"), float("inf"), None, "12", True, 10**400, 4.0],
}


def _builders(values: list):
    labels = [f"day {index}" for index in range(len(values))]
    stage_counts = [(f"stage {n}", values) for n in range(3)]
    stages = [{"id": f"s{index}", "type": "work" if index % 2 else "wait", "items": 3, "leadTime": value,
               "processTime": value, "percentCompleteAccurate": 0.5} for index, value in enumerate(values)]
    return {
        "line": lambda: line_chart("Line", labels, [Series("now", tuple(values)),
                                                    Series("before", tuple(reversed(values)), previous=True)],
                                   unit="duration"),
        "bar": lambda: bar_chart("Bar", list(zip(labels, values))),
        "bar-horizontal": lambda: bar_chart("Bar", list(zip(labels, values)), orientation=HORIZONTAL),
        "cfd": lambda: cumulative_flow("CFD", labels, stage_counts),
        "histogram": lambda: histogram("Histogram", values),
        "sparkline": lambda: sparkline("Spark", values),
        "vsm": lambda: value_stream_map({"stages": stages, "totals": {"leadTime": values[0] if values else None}}),
    }


@pytest.mark.parametrize("data_set", sorted(DATA_SETS))
@pytest.mark.parametrize("kind", sorted(_builders([])))
def test_each_chart_is_well_formed_accessible_and_finite(kind: str, data_set: str) -> None:
    chart = _builders(DATA_SETS[data_set])[kind]()
    root = parse(chart)
    assert_accessible(root)
    assert_finite(root)
    assert chart.description in "".join(root.find(f"{SVG}desc").itertext())


@pytest.mark.parametrize("kind", sorted(_builders([])))
def test_empty_data_says_so(kind: str) -> None:
    chart = _builders([])[kind]()
    root = parse(chart)
    if kind == "sparkline":
        assert "no data" in chart.description.lower()
    else:
        assert NO_DATA in all_text(root)


def test_hostile_labels_stay_text_in_every_chart() -> None:
    charts = [
        line_chart(HOSTILE, [HOSTILE, "b"], [Series(HOSTILE, (1.0, 2.0))]),
        bar_chart(HOSTILE, [(HOSTILE, 1.0)]),
        bar_chart(HOSTILE, [(HOSTILE, 1.0)], orientation=HORIZONTAL),
        cumulative_flow(HOSTILE, [HOSTILE], [(HOSTILE, [1])]),
        histogram(HOSTILE, [1.0, 2.0]),
        sparkline(HOSTILE, [1.0, 2.0]),
        tier_badge(HOSTILE, metric=HOSTILE),
        value_stream_map({"stages": [{"id": HOSTILE, "type": HOSTILE, "leadTime": 10}]}, title=HOSTILE),
    ]
    for chart in charts:
        root = parse(chart)
        assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))
        # The whole label survives as text, entities and all: escaped once, never interpreted.
        assert root.find(f"{SVG}title").text.startswith(HOSTILE)
        assert "<script>" not in str(chart.svg)
        assert "&amp;amp;" in str(chart.svg)


def test_chart_ids_are_safe_and_distinct() -> None:
    first = bar_chart("A", [("x", 1)], chart_id='"><img src=x onerror=alert(1)>')
    assert first.id.replace("-", "").isalnum()
    assert bar_chart("A", [("x", 1)]).id != bar_chart("B", [("x", 1)]).id
    assert bar_chart("A", [("x", 1)]).id == bar_chart("A", [("x", 2)]).id  # stable across renders


def test_a_chart_fits_a_narrow_screen() -> None:
    root = parse(bar_chart("Narrow", [("a", 1)]))
    assert root.get("width") == "100%"
    assert root.get("viewBox").split()[2] == "480"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"


def test_oversized_inputs_are_cut_to_what_a_page_can_show() -> None:
    many = [Series(f"s{index}", (1.0, 2.0)) for index in range(20)]
    chart = line_chart("Many", ["a", "b"], many)
    root = parse(chart)
    assert len([g for g in root.iter(f"{SVG}g") if g.get("data-series")]) == 8
    assert "12 more series are only in the data table" in chart.description
    assert len(chart.table.columns) == 21
    long = line_chart("Long", [str(day) for day in range(5_000)], [Series("s", tuple(range(5_000)))])
    assert len(long.table.rows) == 1_000 and long.table.rows[0] == ("4000", 4000.0)
    stages = cumulative_flow("Stages", ["d1"], [(f"stage {index}", [1]) for index in range(20)])
    assert len(stages.table.columns) == 1 + 12
    assert len(sparkline("Spark", list(range(10_000))).table.rows) == 400


def test_characters_xml_cannot_carry_are_dropped() -> None:
    nasty = "lead\x00 time\x1b\ud800\ufffe ok"
    for chart in (bar_chart(nasty, [(nasty, 1)]),
                  value_stream_map({"stages": [{"id": nasty, "leadTime": 5}]}, title=nasty)):
        root = parse(chart)
        assert root.find(f"{SVG}title").text == "lead time ok"
        assert "lead time ok" in all_text(root)
        str(chart.svg).encode("utf-8")  # a lone surrogate would make this raise
