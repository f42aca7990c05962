"""Dry-run a template: its steps in a temporary workspace, answered in the shape of Backstage's `POST dry-run`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from portal.scaffolder.actions.contract import ActionRegistry
from portal.scaffolder.actions.paths import FileLimits
from portal.scaffolder.expressions import ExpressionRenderer
from portal.scaffolder.steps import StepEvent, StepFailed, StepRun, run_steps
from portal.scaffolder.templates import FieldError, Template, TemplateError, load_template, validate_values
from portal.scaffolder.workspace import deserialize_directory, serialize_directory


class InvalidValues(ValueError):
    """Values that do not fit the template's parameters; `errors` has each field path and why."""

    def __init__(self, template: str, errors: list[FieldError]) -> None:
        listed = "; ".join(f"{e.path}: {e.message}" for e in errors)
        super().__init__(f"Values for {template} are invalid: {listed}")
        self.errors = errors


class DryRunFailed(RuntimeError):
    """A step failed during the dry run; `log` holds the events up to and including the failure."""

    def __init__(self, failure: StepFailed, log: list[dict[str, Any]]) -> None:
        super().__init__(str(failure))
        self.step_id = failure.step_id
        self.log = log


def dry_run(
    entity: Mapping[str, Any],
    values: Mapping[str, Any],
    registry: ActionRegistry,
    *,
    secrets: Mapping[str, Any] | None = None,
    directory_contents: Iterable[Mapping[str, Any]] | None = None,
    user: Mapping[str, Any] | None = None,
    template_path: Path | None = None,
    limits: FileLimits | None = None,
    renderer: ExpressionRenderer | None = None,
) -> dict[str, Any]:
    """Check the template and values, run the steps that support dry runs, answer `{log, directoryContents, output, steps}`.

    `directory_contents` are the template's own files (as Backstage's template editor sends them): when
    given, `fetch:*` actions read from them instead of the template's folder on disk.
    Pass a long-lived `renderer` to reuse compiled expressions across runs.
    Raises TemplateError, InvalidValues, DirectoryContentsError or DryRunFailed.
    """
    template = load_template(entity, registry)
    errors = validate_values(template, values)
    if errors:
        raise InvalidValues(template.ref, errors)
    log: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="flowport-dry-run-") as scratch:
        workspace = Path(scratch, "workspace")
        workspace.mkdir()
        run = StepRun(
            template=template, registry=registry, workspace=workspace, parameters=dict(values),
            emit=lambda event: log.append({"body": event.body()}), secrets=dict(secrets or {}),
            user=dict(user or {}), dry_run=True, renderer=renderer or ExpressionRenderer(),
            template_path=_template_folder(template, Path(scratch, "template"), directory_contents, template_path),
        )
        try:
            output = run_steps(run)
        except StepFailed as failure:
            raise DryRunFailed(failure, log) from None
        contents = serialize_directory(workspace, limits)
    return {"log": log, "directoryContents": contents, "output": output, "steps": _step_summaries(template)}


def _template_folder(template: Template, scratch: Path, directory_contents: Iterable[Mapping[str, Any]] | None,
                     template_path: Path | None) -> Path | None:
    contents = list(directory_contents or [])
    if not contents:
        return template_path or template.base_path
    scratch.mkdir()
    deserialize_directory(scratch, contents)
    return scratch


def _step_summaries(template: Template) -> list[dict[str, Any]]:
    """The steps as Backstage's dry run lists them: every step with an id and a name, as written otherwise."""
    summaries = []
    for step in template.steps:
        summary: dict[str, Any] = {"id": step.run_id, "name": step.name or step.action, "action": step.action}
        if step.input:
            summary["input"] = step.input
        if step.has_condition:
            summary["if"] = step.condition
        summaries.append(summary)
    return summaries


__all__ = ["DryRunFailed", "InvalidValues", "StepEvent", "TemplateError", "dry_run"]
