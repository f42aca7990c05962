"""Posted form strings back to typed JSON: portal/requests/forms/parsing.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.requests.forms.parsing import MAX_ARRAY_ITEMS, MAX_TEXT_CHARS, parse_fields
from portal.requests.forms.schema_fields import page_fields
from portal.requests.forms.values import default_raw, shown_text
from portal.requests.inputs import parameter_problems
from tests.requests.order_catalog import SHOWCASE_INPUTS, WIZARD_PAGES

FIELDS = page_fields(SHOWCASE_INPUTS)
GOOD = {
    "parameters.repository": [" northwind/shipments "], "parameters.language": ["go"],
    "parameters.contact": ["ops@northwind.example"], "parameters.docs": ["https://docs.northwind.example/x"],
    "parameters.startDate": ["2026-12-24"], "parameters.window": ["2026-12-24T09:30"],
    "parameters.replicas": ["3"], "parameters.budget": ["12.5"], "parameters.publishImage": ["true"],
    "parameters.tier": ["gold"], "parameters.environments": ["staging", "production"],
    "parameters.notes": ["line one\r\nline two"], "parameters.token": ["  s3cret "],
    "parameters.database.size": ["large"], "parameters.team": ["group:default/team-dx"],
    "parameters.shape": ["42"],
}


def parse(raw: dict, fields=FIELDS):  # noqa: ANN001, ANN201
    return parse_fields(fields, raw)


def problems_of(raw: dict, fields=FIELDS) -> dict[str, str]:  # noqa: ANN001
    return {problem.path: problem.message for problem in parse(raw, fields).problems}


def test_every_type_comes_back_typed():
    parsed = parse(GOOD)
    assert parsed.problems == []
    assert parsed.values == {
        "repository": "northwind/shipments", "language": "go", "contact": "ops@northwind.example",
        "docs": "https://docs.northwind.example/x", "startDate": "2026-12-24", "window": "2026-12-24T09:30:00Z",
        "replicas": 3, "budget": 12.5, "publishImage": True, "tier": "gold",
        "environments": ["staging", "production"], "notes": "line one\nline two", "token": "  s3cret ",
        "database": {"size": "large", "backups": False}, "team": "group:default/team-dx",
        "source": "portal", "fixed": "eu-west-1", "shape": 42,
    }
    assert parameter_problems(SHOWCASE_INPUTS, parsed.values) == []
    team = next(item for item in FIELDS if item.name == "parameters.team")
    assert parsed.picked == {"parameters.team": ("group:default/team-dx", team.picker)}


def test_empty_optional_fields_are_left_out_and_unchecked_boxes_are_false():
    parsed = parse({})
    assert parsed.values == {"publishImage": False, "database": {"backups": False}, "source": "portal",
                             "fixed": "eu-west-1"}
    # The schema then names what is missing, as the API would.
    paths = [problem.path for problem in parameter_problems(SHOWCASE_INPUTS, parsed.values)]
    assert paths == ["parameters.contact", "parameters.database.size", "parameters.language",
                     "parameters.repository"]


def test_read_only_and_hidden_values_cannot_be_changed_by_a_post_but_hidden_keeps_a_posted_value():
    parsed = parse({**GOOD, "parameters.fixed": ["us-east-1"], "parameters.source": ["api"]})
    assert parsed.values["fixed"] == "eu-west-1"
    assert parsed.values["source"] == "api"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("parameters.replicas", "9223372036854775808", "64 bits"),
    ("parameters.replicas", "-9223372036854775809", "64 bits"),
    ("parameters.replicas", "1e3", "not a whole number"),
    ("parameters.replicas", "2.5", "not a whole number"),
    ("parameters.replicas", "٣", "not a whole number"),  # a non-ASCII digit
    ("parameters.replicas", "1" * 200, "not a whole number"),
    ("parameters.budget", "1e999", "too large"),
    ("parameters.budget", "-1e999", "too large"),
    ("parameters.budget", "NaN", "not a number"),
    ("parameters.budget", "Infinity", "not a number"),
    ("parameters.budget", "0x10", "not a number"),
    ("parameters.docs", "javascript:alert(1)", "javascript: links are not accepted"),
    ("parameters.docs", "JaVaScRiPt:alert(1)", "links are not accepted"),
    ("parameters.docs", "data:text/html,<script>alert(1)</script>", "data: links are not accepted"),
    ("parameters.docs", "file:///etc/passwd", "file: links are not accepted"),
    ("parameters.docs", "/relative/path", "absolute URL"),
    ("parameters.docs", "https://", "must name a host"),
    ("parameters.docs", "https://exa mple.com", "spaces"),
    ("parameters.window", "tomorrow", "not a date and time"),
    ("parameters.window", "2026-12-24", "not a date and time"),
    ("parameters.language", "cobol", "not one of the choices"),
    ("parameters.tier", "platinum", "not one of the choices"),
    ("parameters.team", "group:", "not an entity reference"),
    ("parameters.team", "a/b/c", "not an entity reference"),
    ("parameters.shape", "{not json", "not valid JSON"),
    ("parameters.shape", "NaN", "not valid JSON"),
    ("parameters.repository", "north\x00wind", "NUL"),
    ("parameters.repository", "\ud800", "lone surrogate"),
])
def test_hostile_values_are_field_problems_and_the_good_fields_beside_them_survive(name, value, message):
    parsed = parse({**GOOD, name: [value]})
    problems = {problem.path: problem.message for problem in parsed.problems}
    assert list(problems) == [name], problems
    assert message in problems[name]
    key = name.removeprefix("parameters.")
    assert key not in parsed.values
    assert parsed.values["repository" if key != "repository" else "language"] in ("northwind/shipments", "go")
    assert parsed.values["replicas" if key != "replicas" else "budget"] in (3, 12.5)


def test_ten_megabyte_value_is_refused_with_its_size():
    assert "at most 10,000" in problems_of({**GOOD, "parameters.notes": ["x" * 10 * 1024 * 1024]})["parameters.notes"]
    assert "parameters.notes" not in problems_of({**GOOD, "parameters.notes": ["x" * MAX_TEXT_CHARS]})


def test_ten_thousand_array_items_are_refused_and_unknown_choices_named():
    many = problems_of({**GOOD, "parameters.environments": ["staging"] * 10_000})
    assert many == {"parameters.environments": f"has 10,000 items; at most {MAX_ARRAY_ITEMS} are accepted"}
    unknown = problems_of({**GOOD, "parameters.environments": ["staging", "moon"]})
    assert "'moon' is not one of the choices" in unknown["parameters.environments"]


def test_duplicates_reach_the_schema_which_names_them():
    parsed = parse({**GOOD, "parameters.environments": ["staging", "staging"]})
    assert parsed.values["environments"] == ["staging", "staging"]
    problems = parameter_problems(SHOWCASE_INPUTS, parsed.values)
    assert [problem.path for problem in problems] == ["parameters.environments"]
    assert "non-unique" in problems[0].message


def test_names_outside_the_schema_are_ignored_including_proto_pollution():
    parsed = parse({**GOOD, "parameters.__proto__.admin": ["true"], "parameters.constructor": ["x"],
                    "__proto__": ["1"], "parameters.database.extra": ["1"]})
    assert parsed.problems == []
    assert "__proto__" not in parsed.values and "constructor" not in parsed.values
    assert parsed.values["database"] == {"size": "large", "backups": False}


def test_a_schema_property_called_proto_is_an_ordinary_value():
    fields = page_fields({"type": "object", "properties": {"__proto__": {"type": "object", "properties": {
        "polluted": {"type": "boolean"}}}}})
    parsed = parse({"parameters.__proto__.polluted": ["true"]}, fields)
    assert parsed.values == {"__proto__": {"polluted": True}}
    assert type(parsed.values) is dict and not hasattr(parsed.values, "polluted")


def test_deeply_nested_json_is_a_problem_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    assert "not valid JSON" in problems_of({**GOOD, "parameters.shape": [deep]})["parameters.shape"] or \
        "characters long" in problems_of({**GOOD, "parameters.shape": [deep]})["parameters.shape"]
    moderately = "[" * 5_000 + "]" * 5_000
    assert "not valid JSON" in problems_of({**GOOD, "parameters.shape": [moderately]})["parameters.shape"]


def test_repo_url_picker_value_is_backstages_host_owner_repo_form():
    fields = page_fields(WIZARD_PAGES[2])
    ok = parse({"parameters.repoUrl.host": ["github.com"], "parameters.repoUrl.owner": ["northwind"],
                "parameters.repoUrl.repo": ["returns-service"]}, fields)
    assert ok.values == {"repoUrl": "github.com?owner=northwind&repo=returns-service"}
    for posted, message in [
        ({"parameters.repoUrl.host": ["gitlab.com"], "parameters.repoUrl.owner": ["northwind"],
          "parameters.repoUrl.repo": ["x"]}, "host must be one of github.com"),
        ({"parameters.repoUrl.host": ["github.com"], "parameters.repoUrl.owner": ["evil"],
          "parameters.repoUrl.repo": ["x"]}, "owner must be one of northwind"),
        ({"parameters.repoUrl.host": ["github.com"], "parameters.repoUrl.owner": ["northwind"],
          "parameters.repoUrl.repo": ["../etc"]}, "repo may hold"),
        ({"parameters.repoUrl.host": ["github.com"], "parameters.repoUrl.owner": ["northwind"],
          "parameters.repoUrl.repo": [".."]}, "repo may hold"),
        ({"parameters.repoUrl.host": ["github.com"], "parameters.repoUrl.owner": ["northwind"]},
         "needs a repository name"),
    ]:
        assert message in problems_of(posted, fields)["parameters.repoUrl"], posted


def test_free_lists_take_one_value_per_line_of_their_item_type():
    fields = page_fields({"type": "object", "properties": {"ports": {"type": "array", "items": {"type": "integer"}}}})
    assert parse({"parameters.ports": ["80\r\n\r\n 443 \n"]}, fields).values == {"ports": [80, 443]}
    assert "not a whole number" in problems_of({"parameters.ports": ["80\nhttp"]}, fields)["parameters.ports"]


def test_picker_refs_are_completed_with_the_default_kind():
    fields = page_fields(WIZARD_PAGES[0])
    parsed = parse({"parameters.name": ["svc"], "parameters.owner": ["team-dx"],
                    "parameters.system": ["ops/shipping"]}, fields)
    assert parsed.values == {"name": "svc", "owner": "group:default/team-dx", "system": "system:ops/shipping"}


def test_entity_names_follow_the_catalogs_rules():
    fields = page_fields(WIZARD_PAGES[0])
    assert parse({"parameters.name": ["returns-service"]}, fields).values == {"name": "returns-service"}
    for bad in ("-leading", "trailing-", "x" * 64, "../etc", "with space"):
        assert "must be a catalog name" in problems_of({"parameters.name": [bad]}, fields)["parameters.name"], bad


def test_date_times_are_shown_in_utc_to_the_minute():
    window = next(item for item in FIELDS if item.key == "window")
    assert shown_text(window, {"parameters.window": ["2026-12-24T10:30:00+02:00"]}) == "2026-12-24T08:30"
    assert shown_text(window, {"parameters.window": ["2026-12-24T08:30:00Z"]}) == "2026-12-24T08:30"
    assert shown_text(window, {"parameters.window": ["tomorrow"]}) == "tomorrow"


def test_defaults_are_written_the_way_the_form_posts_them():
    raw = default_raw(FIELDS)
    assert raw["parameters.replicas"] == ["2"] and raw["parameters.publishImage"] == ["true"]
    assert raw["parameters.database.size"] == ["small"] and "parameters.token" not in raw
    assert parse(raw).values["replicas"] == 2


ALL_NAMES = sorted({item.name for top in FIELDS for item in top.walk()} |
                   {f"parameters.repoUrl.{part}" for part in ("host", "owner", "repo")})
KNOWN_PATHS = {item.api_path for top in FIELDS for item in top.walk()}


@hypothesis_settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(posted=st.dictionaries(st.sampled_from(ALL_NAMES), st.lists(st.text(max_size=40), max_size=3)))
def test_any_posted_strings_become_values_or_field_problems_never_an_exception(posted):
    parsed = parse(posted)
    assert {problem.path for problem in parsed.problems} <= KNOWN_PATHS
    # What was read is JSON the API's own checks accept or refuse field by field, without failing either.
    for problem in parameter_problems(SHOWCASE_INPUTS, parsed.values):
        assert problem.path.startswith("parameters")
