"""Input checks: storable text, bounded JSON, and JSON Schema problems by field path."""

from __future__ import annotations

from portal.requests.inputs import (
    MAX_JSON_DEPTH,
    json_problems,
    parameter_problems,
    schema_is_usable,
    text_problem,
)


def test_text_with_nul_or_lone_surrogates_cannot_be_stored():
    assert text_problem("plain, ünïcode ✓") is None
    assert "NUL" in text_problem("a\x00b")
    assert "surrogate" in text_problem("\ud800")


def test_json_problems_name_their_paths():
    problems = json_problems({"a": [1, "x\x00"], "b": {"c": float("nan")}, "k\x00": 1}, "parameters")
    assert {problem.path for problem in problems} == {"parameters.a[1]", "parameters.b.c", "parameters"}


def test_json_depth_and_size_are_bounded():
    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 2):
        deep = [deep]
    assert "nested" in json_problems(deep, "p")[0].message
    assert json_problems({"a": [[[]]]}, "p") == []
    assert "bytes" in json_problems({"blob": "é" * 40_000}, "p")[0].message  # counted in UTF-8 bytes


def test_schema_problems_are_all_reported_in_path_order():
    schema = {"type": "object", "required": ["b", "a"],
              "properties": {"n": {"type": "integer", "maximum": 3}, "mail": {"type": "string", "format": "email"}}}
    problems = parameter_problems(schema, {"n": 4, "mail": "not-an-address"})
    assert [problem.path for problem in problems] == ["parameters.a", "parameters.b", "parameters.mail",
                                                      "parameters.n"]


def test_unusable_schemas_are_named():
    assert schema_is_usable({"type": "object"}) is None
    assert schema_is_usable(True) is None
    assert schema_is_usable({"type": "no-such-type"})
    assert schema_is_usable("object") == "is not a JSON Schema object"
