"""Input checks: storable text, bounded JSON, and JSON Schema problems by field path."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(("value", "ok"), [
    ("https://wiki.example/runbook", True), ("http://intranet.example:8080/x?y=1", True),
    ("javascript:alert(1)", False), ("data:text/html,<script>", False), ("http:///no-host", False),
    ("https://exa mple.com", False), ("not a url", False),
])
def test_uri_format_takes_only_http_links(value, ok):
    schema = {"type": "object", "properties": {"link": {"type": "string", "format": "uri"}}}
    assert (parameter_problems(schema, {"link": value}) == []) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("2026-12-06T08:00:00Z", True), ("2026-12-06T08:00:00.5+01:00", True), ("2026-12-06 08:00:00Z", True),
    ("2026-12-06T08:00:00", False), ("2026-02-30T08:00:00Z", False), ("tomorrow", False),
])
def test_date_time_format_needs_an_offset_and_a_real_date(value, ok):
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    assert (parameter_problems(schema, {"at": value}) == []) is ok
