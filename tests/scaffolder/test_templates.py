from __future__ import annotations

from pathlib import Path

import pytest

from portal.scaffolder.templates import (
    DEFAULT_PAGE_TITLE,
    FieldError,
    TemplateError,
    load_template,
    parameter_schema,
    validate_values,
)
from tests.scaffolder.conftest import TEMPLATES, make_template, python_service_values, real_template

LOG_STEP = {"id": "log", "name": "Say hello", "action": "debug:log", "input": {"message": "hi"}}


def problems_of(entity, registry) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_template(entity, registry)
    return caught.value.problems


@pytest.mark.parametrize("name", ["python-fastapi-service", "static-website"])
def test_the_real_templates_load(registry, name):
    template = load_template(real_template(name), registry)
    assert template.ref == f"template:default/{name}"
    assert [step.id for step in template.steps] == ["fetch", "publish", "publish-github", "publish-gitlab", "register"]
    assert template.base_path == TEMPLATES / name
    assert [page.title for page in template.pages][-1] == "Choose a repository"


def test_a_step_is_typed(registry):
    entity = make_template([{**LOG_STEP, "if": "${{ parameters.x }}"}])
    step = load_template(entity, registry).steps[0]
    assert (step.id, step.name, step.action, step.input, step.condition, step.has_condition) == (
        "log", "Say hello", "debug:log", {"message": "hi"}, "${{ parameters.x }}", True)
    assert step.label == "step 'log' (#1)"


def test_parameters_may_be_one_object(registry):
    entity = make_template([LOG_STEP], parameters={"properties": {"name": {"type": "string"}}})
    template = load_template(entity, registry)
    assert [page.title for page in template.pages] == [DEFAULT_PAGE_TITLE]


def test_an_unknown_action_is_named_with_its_step(registry):
    problems = problems_of(make_template([LOG_STEP, {"id": "ship", "action": "deploy:everything"}]), registry)
    assert len(problems) == 1
    assert problems[0].startswith("step 'ship' (#2): unknown action 'deploy:everything'; known actions: ")
    assert "fetch:template" in problems[0]


def test_duplicate_step_ids_are_refused(registry):
    problems = problems_of(make_template([LOG_STEP, dict(LOG_STEP)]), registry)
    assert problems == ["step 'log' (#2): duplicate step id 'log'; step ids must be unique "
                        "(later steps read steps.<id>.output)"]


def test_a_step_without_an_action_is_refused(registry):
    problems = problems_of(make_template([{"id": "empty", "input": {}}, {"name": "no id"}]), registry)
    assert problems == ["step 'empty' (#1): has no action; every step names one, e.g. action: fetch:template",
                        "step #2: has no action; every step names one, e.g. action: fetch:template"]


def test_unknown_step_keys_and_bad_inputs_are_refused(registry):
    problems = problems_of(make_template([{**LOG_STEP, "inputs": {}, "input": ["x"]}]), registry)
    assert problems == ["step 'log' (#1): input must be an object",
                        "step 'log' (#1): unknown key 'inputs' (a step has id, name, action, input and if)"]


@pytest.mark.parametrize(("page", "expected"), [
    ({"properties": {"port": {"type": "int"}}}, "spec.parameters[0].properties.port.type: invalid JSON Schema"),
    ({"required": "name"}, "spec.parameters[0].required: invalid JSON Schema"),
    ({"properties": {"key": {"type": "string", "pattern": "([a-z"}}},
     "spec.parameters[0].properties.key.pattern: invalid JSON Schema"),
    ({"properties": {"x": {"$ref": "https://evil.example/schema.json"}}},
     "spec.parameters[0].properties.x.$ref: $ref 'https://evil.example/schema.json' must point inside"),
    ("not a page", "spec.parameters[0]: a parameter page must be an object"),
])
def test_an_invalid_parameter_schema_names_its_path(registry, page, expected):
    problems = problems_of(make_template([LOG_STEP], parameters=[page]), registry)
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_output_links_and_text_are_checked(registry):
    output = {"links": [{"title": "Repo", "href": "x"}], "text": "not a list"}
    problems = problems_of(make_template([LOG_STEP], output=output), registry)
    assert problems == ["spec.output.links[0]: unknown keys ['href']; allowed: ['entityRef', 'icon', 'title', 'url']",
                        "spec.output.text must be a list"]


def test_the_envelope_is_checked(registry):
    entity = {"apiVersion": "backstage.io/v1beta2", "kind": "Component", "metadata": {}, "spec": []}
    with pytest.raises(TemplateError) as caught:
        load_template(entity, registry)
    assert str(caught.value).startswith("Template template:default/<unnamed> is invalid:\n")
    assert caught.value.problems == [
        "apiVersion must be 'scaffolder.backstage.io/v1beta3', got 'backstage.io/v1beta2'",
        "kind must be 'Template', got 'Component'", "metadata.name is missing", "spec is missing or not an object"]


def test_every_problem_is_reported_at_once(registry):
    entity = make_template([{"id": "a", "action": "nope"}, {"id": "a"}], parameters=[{"type": "objekt"}])
    assert len(problems_of(entity, registry)) == 4


def test_a_base_path_only_comes_from_a_file_location(registry):
    entity = make_template([LOG_STEP], annotations={"backstage.io/managed-by-location": "url:https://x/t.yaml"})
    assert load_template(entity, registry).base_path is None
    assert load_template(entity, registry, base_path=Path("/tmp/t")).base_path == Path("/tmp/t")


def test_parameter_schema_has_backstages_shape(registry):
    answer = parameter_schema(load_template(real_template("python-fastapi-service"), registry))
    assert answer["title"] == "Python service (FastAPI)"
    assert answer["description"].startswith("Northwind's golden path for backend services")
    assert [step["title"] for step in answer["steps"]] == [
        "Describe the service", "Runtime and tracking", "Choose a repository"]
    assert answer["steps"][0]["schema"]["properties"]["owner"]["ui:field"] == "OwnerPicker"
    assert set(answer["steps"][0]) == {"title", "schema"}


def test_parameter_schema_without_description_or_pages(registry):
    answer = parameter_schema(load_template(make_template([LOG_STEP], title="Demo"), registry))
    assert answer == {"title": "Demo", "steps": []}


def test_valid_values_give_no_errors(registry):
    template = load_template(real_template("python-fastapi-service"), registry)
    assert validate_values(template, python_service_values()) == []


def test_every_invalid_value_is_named_by_its_field(registry):
    template = load_template(real_template("python-fastapi-service"), registry)
    values = python_service_values(port=80, python_version="2.7", jira_key="ship", name="x" * 51)
    del values["owner"], values["repoUrl"]
    errors = {error.path: error.message for error in validate_values(template, values)}
    assert set(errors) == {"owner", "repoUrl", "port", "python_version", "jira_key", "name"}
    assert errors["owner"] == "owner is required"
    assert "80 is less than the minimum of 1024" in errors["port"]
    assert "is not one of ['3.12', '3.13']" in errors["python_version"]
    assert "does not match" in errors["jira_key"]
    assert "is too long" in errors["name"]


def test_formats_types_and_nested_paths_are_checked(registry):
    page = {"properties": {"contact": {"type": "object", "required": ["email"], "properties": {
        "email": {"type": "string", "format": "email"}, "age": {"type": "integer", "maximum": 150}}}}}
    template = load_template(make_template([LOG_STEP], parameters=page), registry)
    errors = validate_values(template, {"contact": {"email": "not-an-email", "age": 200}})
    assert [error.path for error in errors] == ["contact.age", "contact.email"]
    assert validate_values(template, {"contact": {}}) == [FieldError("contact.email", "email is required")]


def test_field_errors_serialise_for_the_api():
    assert FieldError("a.b", "why").as_dict() == {"path": "a.b", "message": "why"}


def test_each_is_refused_until_it_is_supported(registry):
    problems = problems_of(make_template([{**LOG_STEP, "each": "${{ parameters.items }}"}]), registry)
    assert problems == ["step 'log' (#1): each (repeating a step over a list) is not supported yet; "
                        "write one step per item"]


def test_values_must_be_an_object(registry):
    template = load_template(make_template([LOG_STEP], parameters={"properties": {}}), registry)
    assert validate_values(template, ["x"]) == [FieldError("(values)", "values must be an object, got list")]


def nested(depth: int) -> dict:
    value: dict = {"type": "object"}
    for _ in range(depth):
        value = {"type": "object", "properties": {"x": value}}
    return value


def test_a_schema_nested_too_deeply_is_refused_not_crashed(registry):
    problems = problems_of(make_template([LOG_STEP], parameters=nested(5000)), registry)
    assert problems == ["spec.parameters is nested too deeply to check"]


def test_values_nested_too_deeply_are_refused_not_crashed(registry):
    recursive_page = {"type": "object", "additionalProperties": {"$ref": "#"}}
    template = load_template(make_template([LOG_STEP], parameters=recursive_page), registry)
    values: dict = {}
    for _ in range(5000):
        values = {"x": values}
    assert validate_values(template, values) == [FieldError("(values)", "values are nested too deeply to check")]
