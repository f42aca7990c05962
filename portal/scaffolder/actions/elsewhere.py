"""Specs of actions that other parts of Flowport will run (git hosts, the catalog, HTTP).

Only their ids and input schemas live here, so that templates naming them pass the load check and a
dry run skips them; nothing here runs. Each moves to a runnable Action where it is built (the task
runner, the plugins). Inputs follow Backstage's actions of the same ids.
"""

from __future__ import annotations

from portal.scaffolder.actions.contract import ActionSpec

REPO_URL = {"type": "string", "title": "Repository location", "description": "host?owner=o&repo=r"}
REPO_OUTPUT = {"type": "object", "properties": {
    "remoteUrl": {"type": "string"}, "repoContentsUrl": {"type": "string"}, "commitHash": {"type": "string"}}}


def _publish(action_id: str, host: str) -> ActionSpec:
    return ActionSpec(
        id=action_id, description=f"Creates a repository on {host} and pushes the workspace to it.",
        input_schema={"type": "object", "required": ["repoUrl"], "properties": {
            "repoUrl": REPO_URL, "description": {"type": "string"}, "defaultBranch": {"type": "string"},
            "repoVisibility": {"type": "string", "enum": ["private", "internal", "public"]},
            "allowedHosts": {"type": "array", "items": {"type": "string"}},
            "sourcePath": {"type": "string"}, "gitCommitMessage": {"type": "string"}}},
        output_schema=REPO_OUTPUT,
    )


ACTIONS_PROVIDED_ELSEWHERE: tuple[ActionSpec, ...] = (
    _publish("publish:github", "GitHub"),
    _publish("publish:gitlab", "GitLab"),
    _publish("publish:git", "any git remote (including a local path)"),
    ActionSpec(
        id="catalog:register", description="Registers a catalog-info.yaml of a repository in the catalog.",
        input_schema={"type": "object", "oneOf": [{"required": ["catalogInfoUrl"]}, {"required": ["repoContentsUrl"]}],
                      "properties": {"catalogInfoUrl": {"type": "string"}, "repoContentsUrl": {"type": "string"},
                                     "catalogInfoPath": {"type": "string"}, "optional": {"type": "boolean"}}},
        output_schema={"type": "object", "properties": {"entityRef": {"type": "string"},
                                                         "catalogInfoUrl": {"type": "string"}}},
    ),
    ActionSpec(
        id="catalog:fetch", description="Reads an entity (or several) from the catalog.",
        input_schema={"type": "object", "properties": {
            "entityRef": {"type": "string"}, "entityRefs": {"type": "array", "items": {"type": "string"}},
            "optional": {"type": "boolean"}, "defaultKind": {"type": "string"},
            "defaultNamespace": {"type": "string"}}},
        output_schema={"type": "object", "properties": {"entity": {"type": "object"},
                                                         "entities": {"type": "array"}}},
    ),
    ActionSpec(
        id="http:request", description="Calls an allowed external automation with a signed payload.",
        input_schema={"type": "object", "required": ["method", "path"], "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "path": {"type": "string"}, "headers": {"type": "object"}, "body": {}}},
        output_schema={"type": "object", "properties": {"code": {"type": "integer"}, "body": {}}},
    ),
)
