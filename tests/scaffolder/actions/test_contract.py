from __future__ import annotations

import pytest

from portal.scaffolder.actions import ACTIONS_PROVIDED_ELSEWHERE, ActionError, ActionInputError, ActionRegistry
from portal.scaffolder.actions import ActionSpec, default_registry, validate_action_input
from portal.scaffolder.actions.contract import TaskCancelled
from portal.scaffolder.actions.debug import DebugLog
from tests.scaffolder.actions.helpers import make_context

BUILT_IN = ["catalog:fetch", "catalog:register", "catalog:write", "debug:log", "debug:wait", "fetch:plain",
            "fetch:plain:file", "fetch:template", "http:request", "publish:git"]


def test_the_default_registry_lists_built_in_and_elsewhere_actions(registry):
    elsewhere = sorted(spec.id for spec in ACTIONS_PROVIDED_ELSEWHERE)
    assert registry.ids() == sorted(BUILT_IN + elsewhere)
    assert elsewhere == ["publish:github", "publish:gitlab"]


def test_list_has_backstages_actions_shape(registry):
    listed = {entry["id"]: entry for entry in registry.list()}
    assert set(listed["debug:log"]) == {"id", "description", "schema"}
    assert set(listed["debug:log"]["schema"]) == {"input", "output"}
    assert listed["fetch:template"]["schema"]["input"]["required"] == ["url"]
    assert listed["publish:github"]["schema"]["output"]["properties"]["remoteUrl"] == {"type": "string"}


def test_only_built_in_actions_are_runnable(registry):
    assert isinstance(registry.runnable("debug:log"), DebugLog)
    assert registry.runnable("publish:github") is None
    assert all(not spec.supports_dry_run for spec in ACTIONS_PROVIDED_ELSEWHERE)


def test_an_unknown_id_is_an_error(registry):
    with pytest.raises(ActionError, match="unknown action 'nope:nope'"):
        registry.get("nope:nope")


def test_an_id_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        ActionRegistry([DebugLog(), ActionSpec("debug:log", "again", {"type": "object"})])


def test_registries_are_independent():
    first, second = default_registry(), default_registry()
    first.register(ActionSpec("team:thing", "only here", {"type": "object"}))
    assert first.knows("team:thing") and not second.knows("team:thing")


def test_input_is_checked_against_the_schema_naming_step_and_field(registry):
    with pytest.raises(ActionInputError) as caught:
        validate_action_input(registry.get("fetch:template"), {"url": 3, "colour": "red"}, "step 'fetch' (#1)")
    message = str(caught.value)
    assert message.startswith("step 'fetch' (#1) (fetch:template): ")
    assert "input.url: 3 is not of type 'string'" in message
    assert "'colour' was unexpected" in message


def test_a_missing_required_input_is_named(registry):
    with pytest.raises(ActionInputError, match="'entity' is a required property"):
        validate_action_input(registry.get("catalog:write"), {}, "step 'write' (#2)")


def test_valid_input_passes(registry):
    validate_action_input(registry.get("debug:log"), {"message": "hi", "listWorkspace": "with-filenames"}, "s")


def test_the_context_collects_outputs_and_checks_cancellation(tmp_path):
    cancelled = [False]
    ctx, _ = make_context(tmp_path, is_cancelled=lambda: cancelled[0])
    ctx.output("remoteUrl", "https://x")
    ctx.check_cancelled()
    cancelled[0] = True
    with pytest.raises(TaskCancelled, match="step 'x' \\(#1\\): cancelled"):
        ctx.check_cancelled()
    assert ctx.outputs == {"remoteUrl": "https://x"}


def test_every_action_declares_valid_draft_7_schemas(registry):
    from jsonschema import Draft7Validator

    for entry in registry.list():
        Draft7Validator.check_schema(entry["schema"]["input"])
        Draft7Validator.check_schema(entry["schema"]["output"])
        assert entry["description"].endswith("."), entry["id"]
