"""Specs of the plugin publishers, for registries built without the plugin registry.

A template naming publish:github or publish:gitlab then still passes the load check and a dry run skips
the step; nothing here runs. When `default_registry(plugins=...)` is given the plugins, their runnable
actions (plugins/flowport_github/actions.py, plugins/flowport_gitlab/actions.py) take these ids instead.
"""

from __future__ import annotations

from portal.scaffolder.actions.contract import ActionSpec
from portal.scaffolder.actions.git_publish import COMMON_INPUTS, REPO_OUTPUT

REPO_URL = {"type": "string", "title": "Repository location", "description": "host?owner=o&repo=r"}


def _publish(action_id: str, host: str) -> ActionSpec:
    return ActionSpec(
        id=action_id, description=f"Creates a repository on {host} and pushes the workspace to it.",
        input_schema={"type": "object", "required": ["repoUrl"], "properties": {
            "repoUrl": REPO_URL, **COMMON_INPUTS,
            "repoVisibility": {"type": "string", "enum": ["private", "internal", "public"]},
            "allowedHosts": {"type": "array", "items": {"type": "string"}}}},
        output_schema=REPO_OUTPUT,
    )


ACTIONS_PROVIDED_ELSEWHERE: tuple[ActionSpec, ...] = (
    _publish("publish:github", "GitHub"),
    _publish("publish:gitlab", "GitLab"),
)
