from __future__ import annotations

import pytest

from portal.scaffolder.expressions import ExpressionError, ExpressionRenderer, expression_context, mask_secrets


def render(renderer: ExpressionRenderer, value, **parameters):
    context = expression_context(parameters, steps={"publish": {"output": {"remoteUrl": "https://git/x"}}},
                                 user={"ref": "user:default/ann", "entity": {"metadata": {"name": "ann"}}},
                                 secrets={"token": "s3cr3t-value"})
    return renderer.render_value(value, context, where="template:default/demo step 'log' (#1): input",
                                 secrets={"token": "s3cr3t-value"})


def test_a_lone_expression_gives_the_native_value(renderer):
    assert render(renderer, "${{ parameters.port }}", port=8080) == 8080
    assert render(renderer, "${{ parameters.flags }}", flags=[True, False]) == [True, False]
    assert render(renderer, "  ${{ parameters.spec }} ", spec={"a": {"b": 1}}) == {"a": {"b": 1}}
    assert render(renderer, "${{ parameters.enabled }}", enabled=False) is False


def test_mixed_text_gives_a_string_with_javascript_spelling_of_booleans(renderer):
    assert render(renderer, "port ${{ parameters.port }}", port=8080) == "port 8080"
    assert render(renderer, "on: ${{ parameters.enabled }}", enabled=True) == "on: true"
    assert render(renderer, "${{ parameters.a }}-${{ parameters.b }}", a="x", b="y") == "x-y"


def test_step_outputs_and_the_user_are_visible(renderer):
    assert render(renderer, "${{ steps.publish.output.remoteUrl }}") == "https://git/x"
    assert render(renderer, "${{ user.ref }} / ${{ user.entity.metadata.name }}") == "user:default/ann / ann"


def test_undefined_renders_as_nothing_and_drops_its_key(renderer):
    rendered = render(renderer, {"kept": "a${{ parameters.missing.deeper }}b", "dropped": "${{ parameters.missing }}",
                                 "empty": "${{ steps.nope.output.url }}", "list": ["${{ parameters.missing }}"]})
    assert rendered == {"kept": "ab", "list": [None]}


def test_an_empty_string_value_is_kept_but_empty_text_is_dropped(renderer):
    assert render(renderer, "${{ parameters.blank }}", blank="") == ""
    assert render(renderer, "${{ parameters.blank }}${{ parameters.blank }}", blank="") is None


def test_nested_inputs_are_walked(renderer):
    value = {"values": {"name": "${{ parameters.name }}", "tags": ["a", "${{ parameters.name | upper }}"]},
             "count": 3, "flag": True}
    assert render(renderer, value, name="svc") == {"values": {"name": "svc", "tags": ["a", "SVC"]}, "count": 3,
                                                   "flag": True}


def test_blocks_and_loops_render_as_in_nunjucks(renderer):
    text = "{% for tag in parameters.tags %}${{ tag }}{% if not loop.last %},{% endif %}{% endfor %}"
    assert render(renderer, text, tags=["a", "b", "c"]) == "a,b,c"


def test_backstage_filters_are_available(renderer):
    repo = "github.com?owner=northwind&repo=returns"
    assert render(renderer, "${{ parameters.repo | parseRepoUrl }}", repo=repo) == {
        "host": "github.com", "owner": "northwind", "repo": "returns"}
    assert render(renderer, "${{ parameters.repo | projectSlug }}", repo=repo) == "northwind/returns"
    assert render(renderer, "${{ parameters.repo | parseRepoUrl | pick('owner') }}", repo=repo) == "northwind"
    assert render(renderer, "${{ parameters.owner | parseEntityRef | pick('name') }}", owner="group:x/team") == "team"
    assert render(renderer, "${{ parameters.spec | dump }}", spec={"a": [1, 2]}) == '{"a":[1,2]}'


def test_javascript_object_literals_and_strict_equality_are_understood(renderer):
    expression = '${{ parameters.owner | parseEntityRef({ defaultKind: "group", defaultNamespace: "ops" }) }}'
    assert render(renderer, expression, owner="team-a") == {"kind": "group", "namespace": "ops", "name": "team-a"}
    assert render(renderer, "${{ parameters.env === 'prod' }}", env="prod") is True
    assert render(renderer, "${{ parameters.env !== 'prod' }}", env="prod") is False
    assert render(renderer, "${{ 'a: b === c' }}") == "a: b === c"


def test_a_condition_is_truthy_as_in_javascript(renderer):
    context = expression_context({"items": [], "name": "x", "object": {}})
    truthy = [renderer.evaluate_condition(c, context, where="if") for c in
              ["${{ parameters.items }}", "${{ parameters.name }}", "${{ parameters.object }}", True, False,
               "${{ parameters.missing }}", "${{ parameters.name == 'x' }}"]]
    assert truthy == [False, True, False, True, False, False, True]


def test_errors_name_the_place_and_the_expression(renderer):
    with pytest.raises(ExpressionError) as caught:
        render(renderer, {"values": {"name": "${{ parameters.name | nosuchfilter }}"}}, name="x")
    assert "step 'log' (#1): input.values.name" in str(caught.value)
    assert "nosuchfilter" in str(caught.value)


def test_a_syntax_error_says_so(renderer):
    with pytest.raises(ExpressionError, match="syntax error"):
        render(renderer, "${{ parameters.name | }}")


def test_secrets_never_appear_in_error_messages(renderer):
    with pytest.raises(ExpressionError) as caught:
        render(renderer, "${{ secrets.token | parseEntityRef }}")
    assert "s3cr3t-value" not in str(caught.value)
    assert "***" in str(caught.value)


def test_mask_secrets_replaces_longer_secrets_first():
    assert mask_secrets("a abc ab", {"one": "ab", "two": "abc", "none": None, "empty": ""}) == "a *** ***"


def test_render_text_always_gives_text(renderer):
    assert renderer.render_text("${{ values.port }}", {"values": {"port": 8080}}, where="f") == "8080"


def test_fields_named_like_dict_methods_are_read_as_data(renderer):
    assert render(renderer, "${{ parameters.spec.items }}", spec={"items": ["a"]}) == ["a"]
    assert render(renderer, "${{ parameters.values }}", values={"x": 1}) == {"x": 1}


def test_a_renderer_gives_the_same_answers_when_reused(renderer):
    for port in (1, 2):
        assert render(renderer, "${{ parameters.port }}", port=port) == port
        assert render(renderer, "p${{ parameters.port }}", port=port) == f"p{port}"
