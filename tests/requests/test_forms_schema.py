"""JSON Schema (with Backstage's ui: hints) to form fields: portal/requests/forms/schema_fields.py."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.requests.forms.parsing import parse_fields
from portal.requests.forms.schema_fields import MAX_FIELDS, MAX_FORM_DEPTH, page_fields
from portal.requests.forms.field_errors import FormErrors
from portal.requests.forms.values import default_raw, shown_text
from portal.web.rendering import build_templates
from portal.requests.forms.sources import usable_problem
from portal.requests.inputs import schema_is_usable
from tests.requests.order_catalog import SHOWCASE_INPUTS, WIZARD_PAGES


def by_name(schema: dict) -> dict:
    return {item.name: item for top in page_fields(schema) for item in top.walk()}


def test_every_showcase_property_gets_the_widget_its_type_and_hints_ask_for():
    fields = by_name(SHOWCASE_INPUTS)
    widgets = {name.removeprefix("parameters."): item.widget for name, item in fields.items()}
    assert widgets == {
        "repository": "text", "language": "select", "contact": "email", "docs": "url", "startDate": "date",
        "window": "datetime", "replicas": "integer", "budget": "number", "publishImage": "checkbox",
        "tier": "radio", "environments": "checkboxes", "notes": "textarea", "token": "password",
        "database": "fieldset", "database.size": "select", "database.backups": "checkbox", "team": "owner-picker",
        "source": "hidden", "fixed": "text", "shape": "json",
    }


def test_labels_hints_required_and_defaults_come_from_the_schema():
    fields = by_name(SHOWCASE_INPUTS)
    repository = fields["parameters.repository"]
    assert (repository.label, repository.description, repository.placeholder) == (
        "Repository", "GitHub repository as owner/name.", "northwind/my-service")
    assert repository.required and repository.autofocus
    assert fields["parameters.notes"].help == "Anything the owners should know."
    assert fields["parameters.replicas"].constraints == {"minimum": 1, "maximum": 10}
    assert (fields["parameters.replicas"].has_default, fields["parameters.replicas"].default) == (True, 2)
    assert fields["parameters.fixed"].readonly
    assert not fields["parameters.docs"].required
    assert fields["parameters.database.size"].required  # required inside the nested object


def test_enum_names_and_one_of_titles_label_the_choices():
    fields = by_name(SHOWCASE_INPUTS)
    assert [(c.key, c.value, c.label) for c in fields["parameters.language"].choices] == [
        ("python", "python", "Python"), ("java", "java", "Java"), ("go", "go", "Go")]
    assert [(c.value, c.label) for c in fields["parameters.tier"].choices] == [
        ("gold", "Gold (24/7)"), ("silver", "Silver")]


def test_non_string_enums_post_json_keys():
    fields = by_name({"type": "object", "properties": {"ttl": {"type": "integer", "enum": [24, 72]},
                                                       "flag": {"enum": [True, None]}}})
    assert [(c.key, c.value) for c in fields["parameters.ttl"].choices] == [("24", 24), ("72", 72)]
    assert [(c.key, c.value) for c in fields["parameters.flag"].choices] == [("true", True), ("null", None)]


def test_nested_objects_get_dotted_names_and_api_paths():
    fields = by_name(SHOWCASE_INPUTS)
    size = fields["parameters.database.size"]
    assert (size.name, size.api_path, size.id) == ("parameters.database.size", "parameters.database.size",
                                                   "field-database-size")
    assert fields["parameters.database.size"].default == "small"


def test_an_objects_default_fills_its_fields():
    fields = by_name({"type": "object", "properties": {"db": {"type": "object", "default": {"size": "large"},
                                                             "properties": {"size": {"type": "string"}}}}})
    assert fields["parameters.db.size"].default == "large"


def test_property_names_with_dots_and_tildes_are_escaped_in_form_names_only():
    fields = by_name({"type": "object", "properties": {"a.b": {"type": "string"}, "c~d": {"type": "string"}}})
    assert set(fields) == {"parameters.a~1b", "parameters.c~0d"}
    assert fields["parameters.a~1b"].api_path == "parameters.a.b"
    assert fields["parameters.a~1b"].key == "a.b" and fields["parameters.c~0d"].key == "c~d"


def test_proto_keys_are_ordinary_property_names():
    fields = by_name({"type": "object", "properties": {"__proto__": {"type": "string"}, "constructor": {"type": "integer"}}})
    assert fields["parameters.__proto__"].widget == "text"
    assert fields["parameters.constructor"].widget == "integer"


def test_arrays_of_many_choices_become_a_multiselect_and_free_lists_one_per_line():
    many = [f"region-{n}" for n in range(20)]
    fields = by_name({"type": "object", "properties": {
        "regions": {"type": "array", "items": {"type": "string", "enum": many}},
        "ports": {"type": "array", "items": {"type": "integer"}},
        "picked": {"type": "array", "ui:widget": "select", "items": {"enum": ["a", "b"]}},
    }})
    assert fields["parameters.regions"].widget == "multiselect"
    assert (fields["parameters.ports"].widget, fields["parameters.ports"].item_type) == ("lines", "integer")
    assert fields["parameters.picked"].widget == "multiselect"


def test_backstage_pickers_carry_their_catalog_filters():
    page = by_name(WIZARD_PAGES[0])
    owner, system = page["parameters.owner"], page["parameters.system"]
    assert owner.widget == "owner-picker" and owner.picker.filter_groups() == [{"kind": ["Group"]}]
    assert system.widget == "entity-picker" and system.picker.filter_groups() == [{"kind": ["System"]}]
    assert system.picker.default_kind == "System"


def test_owner_picker_without_options_offers_groups_and_users_and_allowed_kinds_narrow_it():
    fields = by_name({"type": "object", "properties": {
        "owner": {"type": "string", "ui:field": "OwnerPicker"},
        "thing": {"type": "string", "ui:field": "EntityPicker", "ui:options": {"allowedKinds": ["Component", "API"]}},
        "team": {"type": "string", "ui:field": "OwnerPicker",
                 "ui:options": {"catalogFilter": [{"kind": "Group", "spec.type": "team"}, {"kind": "User"}]}},
    }})
    assert fields["parameters.owner"].picker.filter_groups() == [{"kind": ["Group", "User"]}]
    assert fields["parameters.thing"].picker.filter_groups() == [{"kind": ["Component", "API"]}]
    assert fields["parameters.team"].picker.filter_groups() == [{"kind": ["Group"], "spec.type": ["team"]},
                                                                {"kind": ["User"]}]


def test_entity_name_picker_is_a_text_box_checked_against_catalog_name_rules():
    assert by_name(WIZARD_PAGES[0])["parameters.name"].widget == "entity-name"


def test_repo_url_picker_keeps_its_allowed_hosts_and_owners():
    repo = by_name(WIZARD_PAGES[2])["parameters.repoUrl"]
    assert repo.widget == "repo-url"
    assert (repo.repo.allowed_hosts, repo.repo.allowed_owners) == (("github.com",), ("northwind",))


def test_unsupported_features_become_json_boxes_with_a_note_never_an_error():
    fields = by_name({"type": "object", "properties": {
        "ref": {"$ref": "#/definitions/x"},
        "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "anything": {},
        "free": {"type": "object"},
        "objects": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "never": False,
        "custom": {"type": "string", "ui:field": "MyOwnPicker"},
    }})
    for name in ("ref", "either", "anything", "free", "objects", "never"):
        item = fields[f"parameters.{name}"]
        assert item.widget == "json" and "enter its value as JSON" in item.note, name
    assert "$ref" in fields["parameters.ref"].note
    assert fields["parameters.custom"].widget == "text" and "MyOwnPicker" in fields["parameters.custom"].note


def test_deep_nesting_stops_at_the_depth_limit():
    schema: dict = {"type": "string"}
    for level in range(50):
        schema = {"type": "object", "properties": {f"l{level}": schema}}
    fields = list(by_name(schema).values())
    assert len([item for item in fields if item.widget == "fieldset"]) == MAX_FORM_DEPTH
    assert fields[-1].widget == "json" and "nested more than" in fields[-1].note


def test_thousands_of_properties_are_cut_with_a_note():
    fields = page_fields({"type": "object", "properties": {f"p{n}": {"type": "string"} for n in range(5000)}})
    assert len(fields) == MAX_FIELDS + 1
    assert fields[-1].widget == "note" and str(MAX_FIELDS) in fields[-1].note


def test_ui_order_puts_listed_fields_first():
    fields = page_fields({"type": "object", "ui:order": ["b", "missing"], "properties": {
        "a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}})
    assert [item.key for item in fields] == ["b", "a", "c"]


def test_field_model_json_never_shows_a_password_default():
    fields = by_name({"type": "object", "properties": {
        "secret": {"type": "string", "ui:widget": "password", "default": "hunter2"}}})
    assert "default" not in fields["parameters.secret"].as_json()


def test_names_that_read_the_same_as_ids_get_distinct_ids():
    fields = by_name({"type": "object", "properties": {
        "a-b": {"type": "string"}, "a": {"type": "object", "properties": {"b": {"type": "string"}}},
        "a.b": {"type": "string"}}})
    ids = [item.id for item in fields.values()]
    assert len(ids) == len(set(ids)) == 4
    assert fields["parameters.a-b"].id == "field-a-b"


def test_rjsf_format_widgets_choose_the_input():
    fields = by_name({"type": "object", "properties": {
        "mail": {"type": "string", "ui:widget": "email"}, "link": {"type": "string", "ui:widget": "uri"},
        "day": {"type": "string", "ui:widget": "alt-date"}}})
    assert [item.widget for item in fields.values()] == ["email", "url", "date"]


def test_usable_problem_answers_as_the_api_check_does_and_remembers_by_text():
    bad = {"type": "no-such-type"}
    assert usable_problem(SHOWCASE_INPUTS) is None is schema_is_usable(SHOWCASE_INPUTS)
    assert usable_problem(bad) == schema_is_usable(bad) is not None
    assert usable_problem({"type": "no-such-type"}) == usable_problem(bad)  # same text, same answer
    assert usable_problem({"type": "object", "properties": {"x": {"type": "nope"}}}) is not None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "enum", "properties", "items", "default", "title", "ui:widget", "ui:field",
                         "ui:options", "oneOf", "required", "format", "enumNames", "x"]), children, max_size=5),
    max_leaves=30)


@hypothesis_settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(properties=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5))
def test_any_property_schemas_become_fields_never_an_exception(properties):
    fields = page_fields({"type": "object", "properties": properties})
    assert len(fields) == len(properties)
    raw = default_raw(fields)
    parse_fields(fields, raw)
    json.dumps([item.as_json() for item in fields], default=str)
    for item in fields:
        drawn = str(MACROS.render_field(item, raw, FormErrors(), {}, _Order()))
        assert item.widget in ("hidden", "note") or f'id="{item.id}' in drawn
        assert item.label.strip()  # every input has a label people can read


class _Order:
    """What the field macros read from the page's OrderView."""

    action_url = "/products/p/capabilities/c/order"

    def shown(self, item, raw):  # noqa: ANN001, ANN201
        return shown_text(item, raw)


MACROS = build_templates().env.get_template("requests/_form_fields.html").module


def test_ui_title_description_and_disabled_override_the_schema():
    item = by_name({"type": "object", "properties": {"x": {
        "type": "string", "title": "T", "description": "D", "ui:title": "UT", "ui:description": "UD",
        "ui:disabled": True, "default": "fixed"}}})["parameters.x"]
    assert (item.label, item.description, item.readonly) == ("UT", "UD", True)
