"""Build an ActionContext for one action run in a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portal.scaffolder.actions.contract import ActionContext


def make_context(workspace: Path, template_path: Path | None = None, **overrides: Any) -> tuple[ActionContext, list[str]]:
    """A context whose log lines are collected in the returned list."""
    lines: list[str] = []
    options: dict[str, Any] = {"input": {}, "workspace": workspace, "log": lines.append,
                               "step_label": "template:default/demo step 'x' (#1)", "template_path": template_path}
    return ActionContext(**{**options, **overrides}), lines
