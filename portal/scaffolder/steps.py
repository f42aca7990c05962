"""Run a template's steps in order in a workspace, reporting progress as events (used by dry runs and tasks)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal.scaffolder.actions.contract import (
    ActionContext,
    ActionRegistry,
    ActionServices,
    ActionSpec,
    TaskCancelled,
    spec_of,
    validate_action_input,
)
from portal.scaffolder.expressions import ExpressionRenderer, expression_context, mask_secrets
from portal.scaffolder.templates import Template, TemplateStep

# Step statuses as Backstage's task log events carry them.
PROCESSING, COMPLETED, FAILED, SKIPPED, CANCELLED = "processing", "completed", "failed", "skipped", "cancelled"


@dataclass(frozen=True)
class StepEvent:
    """One log line of a run; `body()` is Backstage's log event body `{message, stepId?, status?}`."""

    message: str
    step_id: str | None = None
    status: str | None = None

    def body(self) -> dict[str, str]:
        body = {"message": self.message}
        if self.step_id:
            body["stepId"] = self.step_id
        if self.status:
            body["status"] = self.status
        return body


class StepFailed(RuntimeError):
    """A step failed (or the run was cancelled); the message names the template, the step and why."""

    def __init__(self, message: str, step_id: str | None, cancelled: bool = False) -> None:
        super().__init__(message)
        self.step_id = step_id
        self.cancelled = cancelled


@dataclass
class StepRun:
    """Everything one run of a template's steps needs. `emit` receives every event as it happens."""

    template: Template
    registry: ActionRegistry
    workspace: Path
    parameters: Mapping[str, Any]
    emit: Callable[[StepEvent], None]
    secrets: Mapping[str, Any] = field(default_factory=dict)
    user: Mapping[str, Any] = field(default_factory=dict)
    template_path: Path | None = None
    dry_run: bool = False
    is_cancelled: Callable[[], bool] = lambda: False
    sleep: Callable[[float], None] = time.sleep
    renderer: ExpressionRenderer = field(default_factory=ExpressionRenderer)
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: ActionServices | None = None  # the task runner passes them; dry runs do not

    def context(self) -> dict[str, Any]:
        return expression_context(self.parameters, self.step_outputs, self.user, self.secrets)

    def say(self, message: str, step_id: str | None = None, status: str | None = None) -> None:
        self.emit(StepEvent(mask_secrets(message, self.secrets), step_id, status))


def run_steps(run: StepRun) -> dict[str, Any]:
    """Run every step in order and return the template's rendered `output`; raise StepFailed on failure."""
    for step in run.template.steps:
        if run.is_cancelled():
            run.say(f"Cancelled before {step.label}", step.run_id, CANCELLED)
            raise StepFailed(f"{run.template.ref}: cancelled before {step.label}", step.run_id, cancelled=True)
        _run_one_step(run, step)
    return _rendered_output(run)


def _run_one_step(run: StepRun, step: TemplateStep) -> None:
    where = f"{run.template.ref} {step.label}"
    try:
        _execute(run, step, where)
    except TaskCancelled:
        run.say(f"Cancelled {step.label}", step.run_id, CANCELLED)
        raise StepFailed(f"{where}: cancelled", step.run_id, cancelled=True) from None
    except Exception as error:  # noqa: BLE001 - a failing step ends the run with a message, never a trace
        message = mask_secrets(_failure_text(where, error), run.secrets)
        run.say(message, step.run_id, FAILED)
        raise StepFailed(message, step.run_id) from None


def _execute(run: StepRun, step: TemplateStep, where: str) -> None:
    title = step.name or step.action
    if step.has_condition and not run.renderer.evaluate_condition(
            step.condition, run.context(), where=f"{where}: if", secrets=run.secrets):
        run.say(f"Skipping {step.label} because its if condition was false", step.run_id, SKIPPED)
        return
    entry = run.registry.get(step.action)
    if run.dry_run and not entry.supports_dry_run:
        run.say(f"Skipping because {step.action} does not support dry-run", step.run_id, SKIPPED)
        _remember_outputs(run, step, _dry_run_placeholders(spec_of(entry), step))
        return
    run.say(f"Beginning step {title}", step.run_id, PROCESSING)
    rendered_input = run.renderer.render_value(step.input, run.context(), where=f"{where}: input", secrets=run.secrets)
    validate_action_input(entry, rendered_input, where)
    action = run.registry.runnable(step.action)
    if action is None:
        raise RuntimeError(f"action {step.action!r} is provided elsewhere and cannot run here yet")
    context = ActionContext(
        input=rendered_input, workspace=run.workspace, log=lambda message: run.say(message, step.run_id),
        step_label=where, template_path=run.template_path, user=dict(run.user), secrets=run.secrets,
        is_cancelled=run.is_cancelled, is_dry_run=run.dry_run, sleep=run.sleep, services=run.services,
    )
    action.run(context)
    _remember_outputs(run, step, context.outputs)
    run.say(f"Finished step {title}", step.run_id, COMPLETED)


def _remember_outputs(run: StepRun, step: TemplateStep, outputs: dict[str, Any]) -> None:
    run.step_outputs[step.run_id] = {"output": outputs}


def _dry_run_placeholders(spec: ActionSpec, step: TemplateStep) -> dict[str, str]:
    # Later steps and the template's output may read a skipped step's outputs; they get a visible stand-in.
    properties = spec.output_schema.get("properties") or {}
    return {name: f"[dry-run: {step.run_id}.{name}]" for name in properties}


def _failure_text(where: str, error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if text.startswith(where) else f"{where}: {text}"


def _rendered_output(run: StepRun) -> dict[str, Any]:
    try:
        output = run.renderer.render_value(run.template.output, run.context(), secrets=run.secrets,
                                           where=f"{run.template.ref} spec.output")
    except Exception as error:  # noqa: BLE001 - reported like a failed step
        message = mask_secrets(str(error), run.secrets)
        run.say(message, status=FAILED)
        raise StepFailed(message, None) from None
    return output or {}
