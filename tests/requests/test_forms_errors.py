"""Problems beside their fields (portal/requests/forms/field_errors.py) and the sealed wizard draft (draft.py)."""

from __future__ import annotations

import pytest

from portal.requests.forms.draft import Draft, DraftError, seal, unseal
from portal.requests.forms.field_errors import after_reading_problems, place_errors, readable
from portal.requests.forms.parsing import parse_fields
from portal.requests.forms.schema_fields import page_fields
from portal.requests.inputs import FieldProblem, parameter_problems
from tests.requests.order_catalog import SHOWCASE_INPUTS

FIELDS = page_fields(SHOWCASE_INPUTS)
KEY = "a-test-secret-key-that-is-long-enough"


def test_api_problems_land_beside_their_fields_with_readable_words():
    values = {"repository": "elsewhere/x", "language": "go", "contact": "ops@example.com", "replicas": 11,
              "environments": ["staging", 5], "database": {}}
    errors = place_errors(parameter_problems(SHOWCASE_INPUTS, values), FIELDS)
    assert errors.by_field == {
        "parameters.database.size": ["This field is required."],
        "parameters.environments": ["5 is not of type 'string'", "5 is not one of ['staging', 'production']"],
        "parameters.replicas": ["11 is greater than the maximum of 10"],
        "parameters.repository": ["'elsewhere/x' does not match '^northwind/[a-z0-9._-]+$'"],
    }
    assert errors.general == []
    # The summary links each message to its field's id, in the order of the problems.
    assert [(field_id, label) for field_id, label, _ in errors.summary] == [
        ("field-database-size", "Size"), ("field-environments", "Environments"), ("field-environments", "Environments"),
        ("field-replicas", "Replicas"), ("field-repository", "Repository")]


def test_problems_no_field_can_show_go_to_the_summary():
    errors = place_errors([FieldProblem("parameters", "Additional properties are not allowed ('x' was unexpected)"),
                           FieldProblem("capability", "There is no capability x")], FIELDS)
    assert errors.by_field == {}
    assert errors.general == ["parameters: Additional properties are not allowed ('x' was unexpected)",
                              "capability: There is no capability x"]


def test_a_value_that_could_not_be_read_is_not_also_reported_missing():
    parsed = parse_fields(FIELDS, {"parameters.language": ["cobol"]})
    merged = after_reading_problems(parsed.problems, parameter_problems(SHOWCASE_INPUTS, parsed.values))
    errors = place_errors(merged, FIELDS)
    assert errors.by_field["parameters.language"] == ["'cobol' is not one of the choices"]
    assert errors.by_field["parameters.repository"] == ["This field is required."]


def test_readable_keeps_other_messages_and_capitalises_them():
    assert readable(FieldProblem("p", "'x' is a required property")) == "This field is required."
    assert readable(FieldProblem("p", "is too long")) == "Is too long"


def test_a_sealed_draft_round_trips_and_hides_what_was_typed():
    draft = Draft("capability:default/x", {"parameters.token": ["hunter2"]}, {0, 2})
    token = seal(draft, KEY)
    assert "hunter2" not in token
    back = unseal(token, KEY, "capability:default/x")
    assert (back.raw, back.seen) == ({"parameters.token": ["hunter2"]}, {0, 2})


@pytest.mark.parametrize(("token", "key", "capability", "message"), [
    ("not-a-token", KEY, "capability:default/x", "expired or were changed"),
    (None, "another-key", "capability:default/x", "expired or were changed"),
    (None, KEY, "capability:default/y", "another capability"),
    ("x" * 600_000, KEY, "capability:default/x", "too large"),
])
def test_a_draft_that_cannot_be_trusted_is_refused(token, key, capability, message):
    sealed = token or seal(Draft("capability:default/x", {"a": ["b"]}), KEY)
    with pytest.raises(DraftError, match=message):
        unseal(sealed, key, capability)


def test_a_tampered_draft_is_refused():
    sealed = seal(Draft("capability:default/x", {"a": ["b"]}), KEY)
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    with pytest.raises(DraftError):
        unseal(flipped, KEY, "capability:default/x")
