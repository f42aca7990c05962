from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal.scaffolder.actions import Action, ActionContext, ActionSpec, default_registry
from portal.scaffolder.steps import StepEvent, StepFailed, StepRun, run_steps
from portal.scaffolder.templates import load_template
from tests.scaffolder.conftest import make_template


class RecordOutput(Action):
    """A test action: sets the outputs named in its input and logs the secret it was given."""

    id = "test:record"
    description = "Sets outputs"
    input_schema = {"type": "object", "properties": {"outputs": {"type": "object"}, "say": {"type": "string"}}}
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        for name, value in (ctx.input.get("outputs") or {}).items():
            ctx.output(name, value)
        if "say" in ctx.input:
            ctx.log(ctx.input["say"])


class Explode(Action):
    id = "test:explode"
    description = "Fails"
    input_schema = {"type": "object"}
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        raise RuntimeError(f"the tool rejected token {ctx.secrets['token']}")


def registry_with_test_actions():
    registry = default_registry()
    registry.register(RecordOutput())
    registry.register(Explode())
    registry.register(ActionSpec("test:remote", "Runs elsewhere", {"type": "object"},
                                 {"type": "object", "properties": {"url": {"type": "string"}}}))
    return registry


def run(tmp_path: Path, steps: list[dict[str, Any]], output: dict[str, Any] | None = None, dry_run: bool = False,
        **parameters: Any) -> tuple[dict[str, Any], list[StepEvent]]:
    registry = registry_with_test_actions()
    events: list[StepEvent] = []
    step_run = StepRun(template=load_template(make_template(steps, output=output), registry), registry=registry,
                       workspace=tmp_path, parameters=parameters, emit=events.append, dry_run=dry_run,
                       secrets={"token": "hunter2-secret"}, user={"ref": "user:default/ann"})
    return run_steps(step_run), events


def test_later_steps_and_the_output_read_earlier_outputs(tmp_path):
    steps = [{"id": "make", "action": "test:record", "input": {"outputs": {"url": "https://x/${{ parameters.n }}"}}},
             {"id": "use", "name": "Use it", "action": "test:record",
              "input": {"say": "got ${{ steps.make.output.url }}"}}]
    output, events = run(tmp_path, steps, output={"links": [{"title": "Repo", "url": "${{ steps.make.output.url }}"}]},
                         n="svc")
    assert output == {"links": [{"title": "Repo", "url": "https://x/svc"}]}
    assert [e.body() for e in events] == [
        {"message": "Beginning step test:record", "stepId": "make", "status": "processing"},
        {"message": "Finished step test:record", "stepId": "make", "status": "completed"},
        {"message": "Beginning step Use it", "stepId": "use", "status": "processing"},
        {"message": "got https://x/svc", "stepId": "use"},
        {"message": "Finished step Use it", "stepId": "use", "status": "completed"},
    ]


def test_if_conditions_are_honoured(tmp_path):
    steps = [{"id": "no", "action": "test:record", "if": "${{ parameters.publish }}", "input": {"say": "no"}},
             {"id": "yes", "action": "test:record", "if": "${{ not parameters.publish }}", "input": {"say": "yes"}},
             {"id": "literal", "action": "test:record", "if": False, "input": {"say": "never"}}]
    _, events = run(tmp_path, steps, publish=False)
    messages = [e.message for e in events]
    assert "yes" in messages and "no" not in messages and "never" not in messages
    assert [e.body() for e in events if e.status == "skipped"] == [
        {"message": "Skipping step 'no' (#1) because its if condition was false", "stepId": "no", "status": "skipped"},
        {"message": "Skipping step 'literal' (#3) because its if condition was false", "stepId": "literal",
         "status": "skipped"}]


def test_a_failing_step_stops_the_run_and_masks_secrets(tmp_path):
    steps = [{"id": "boom", "action": "test:explode"}, {"id": "after", "action": "test:record", "input": {"say": "x"}}]
    with pytest.raises(StepFailed) as caught:
        run(tmp_path, steps)
    assert str(caught.value) == "template:default/demo step 'boom' (#1): the tool rejected token ***"
    assert caught.value.step_id == "boom"


def test_log_lines_mask_secrets(tmp_path):
    _, events = run(tmp_path, [{"id": "s", "action": "test:record", "input": {"say": "token=${{ secrets.token }}"}}])
    assert "token=***" in [e.message for e in events]
    assert not any("hunter2" in e.message for e in events)


def test_invalid_rendered_input_names_step_and_field(tmp_path):
    steps = [{"id": "log", "action": "debug:log", "input": {"message": "${{ parameters.count }}"}}]
    with pytest.raises(StepFailed) as caught:
        run(tmp_path, steps, count=3)
    assert "step 'log' (#1) (debug:log): input.message: 3 is not of type 'string'" in str(caught.value)


def test_an_expression_error_names_step_and_field(tmp_path):
    steps = [{"id": "log", "action": "debug:log", "input": {"message": "${{ parameters.x.__class__ }}"}}]
    with pytest.raises(StepFailed, match=r"step 'log' \(#1\): input.message: access to '__class__' is not allowed"):
        run(tmp_path, steps)


def test_an_action_provided_elsewhere_cannot_run_here(tmp_path):
    with pytest.raises(StepFailed, match="'test:remote' is provided elsewhere and cannot run here yet"):
        run(tmp_path, [{"id": "remote", "action": "test:remote"}])


def test_a_dry_run_skips_actions_without_dry_run_support_with_stand_in_outputs(tmp_path):
    steps = [{"id": "remote", "action": "test:remote"},
             {"id": "after", "action": "test:record", "input": {"say": "${{ steps.remote.output.url }}"}}]
    output, events = run(tmp_path, steps, output={"text": [{"title": "URL", "content": "${{ steps.remote.output.url }}"}]},
                         dry_run=True)
    assert events[0].body() == {"message": "Skipping because test:remote does not support dry-run",
                                "stepId": "remote", "status": "skipped"}
    assert "[dry-run: remote.url]" in [e.message for e in events]
    assert output == {"text": [{"title": "URL", "content": "[dry-run: remote.url]"}]}


def test_cancellation_between_steps_stops_the_run(tmp_path):
    registry = registry_with_test_actions()
    events: list[StepEvent] = []
    steps = [{"id": "a", "action": "test:record"}, {"id": "b", "action": "test:record"}]
    step_run = StepRun(template=load_template(make_template(steps), registry), registry=registry, workspace=tmp_path,
                       parameters={}, emit=events.append, is_cancelled=lambda: len(events) >= 2)
    with pytest.raises(StepFailed) as caught:
        run_steps(step_run)
    assert caught.value.cancelled and caught.value.step_id == "b"
    assert events[-1].body() == {"message": "Cancelled before step 'b' (#2)", "stepId": "b", "status": "cancelled"}


def test_cancellation_inside_an_action_is_reported_as_cancelled(tmp_path):
    registry = registry_with_test_actions()
    events: list[StepEvent] = []
    slept: list[float] = []
    steps = [{"id": "wait", "action": "debug:wait", "input": {"seconds": 60}}]
    step_run = StepRun(template=load_template(make_template(steps), registry), registry=registry, workspace=tmp_path,
                       parameters={}, emit=events.append, sleep=slept.append, is_cancelled=lambda: len(slept) >= 2)
    with pytest.raises(StepFailed) as caught:
        run_steps(step_run)
    assert caught.value.cancelled
    assert events[-1].status == "cancelled"


def test_a_broken_output_expression_fails_the_run(tmp_path):
    with pytest.raises(StepFailed, match=r"spec.output.links\[0\].url: syntax error"):
        run(tmp_path, [], output={"links": [{"url": "${{ }}"}]})
