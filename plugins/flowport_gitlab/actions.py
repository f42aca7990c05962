"""GitLab's scaffolder actions: publish:gitlab and gitlab:pipeline:trigger, through the REST API
(https://docs.gitlab.com/api/projects/#create-a-project, https://docs.gitlab.com/api/pipelines/#create-a-new-pipeline)
with the token of the connection serving the repository's host."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.git_cli import GitCredentials
from portal.scaffolder.actions.git_publish import COMMON_INPUTS, REPO_OUTPUT, branch_of, push_to_tool
from portal.scaffolder.actions.plugin_actions import (
    LENIENT,
    TOKEN_INPUT,
    connection_for,
    note_ignored_inputs,
    repository_of,
    token_of,
    tool_api,
)
from portal.scaffolder.actions.services import settings_of

TITLE = "GitLab"
REPO_URL = {"type": "string", "maxLength": 500, "description": "gitlab.com?owner=group/subgroup&repo=r"}


class PublishGitlab(Action):
    id = "publish:gitlab"
    description = "Creates a GitLab project in a group (or the token's user namespace) and pushes the workspace."
    input_schema = {"type": "object", "required": ["repoUrl"], **LENIENT, "properties": {
        "repoUrl": REPO_URL, **COMMON_INPUTS, "token": TOKEN_INPUT,
        "repoVisibility": {"type": "string", "enum": ["private", "internal", "public"], "default": "private"},
        "allowedHosts": {"type": "array", "items": {"type": "string", "maxLength": 253}, "maxItems": 20}}}
    output_schema = {"type": "object", "properties": {**REPO_OUTPUT["properties"], "projectId": {"type": "integer"}}}

    def run(self, ctx: ActionContext) -> None:
        note_ignored_inputs(ctx, self)
        settings = settings_of(ctx, self.id)
        repo = repository_of(ctx)
        instance = connection_for(ctx, "gitlab", TITLE, repo.host)
        with tool_api(ctx, self.id, instance, TITLE) as api:
            namespace = api.call("GET", f"/namespaces/{quote(repo.owner, safe='')}")
            if not isinstance(namespace, dict) or not isinstance(namespace.get("id"), int):
                raise ActionError(f"{ctx.step_label}: GitLab has no namespace {repo.owner!r}")
            ctx.log(f"Creating the GitLab project {repo.owner}/{repo.name}")
            created = api.call("POST", "/projects", {
                "name": repo.name, "path": repo.name, "namespace_id": namespace["id"],
                "visibility": ctx.input.get("repoVisibility", "private"),
                "description": ctx.input.get("description", ""), "initialize_with_readme": False,
            }, ok=(201,))
        if not isinstance(created, dict) or not isinstance(created.get("id"), int):
            raise ActionError(f"{ctx.step_label}: GitLab's answer to creating {repo.owner}/{repo.name} has no id")
        web = f"https://{repo.host}/{repo.owner}/{repo.name}"
        # The token reaches git only through the askpass helper's environment (portal/scaffolder/actions/git_cli.py).
        credentials = GitCredentials("oauth2", token_of(ctx, instance))
        commit = push_to_tool(ctx, settings, f"{web}.git", credentials)
        ctx.output("remoteUrl", f"{web}.git")
        ctx.output("repoContentsUrl", f"{web}/-/blob/{branch_of(ctx)}")
        ctx.output("commitHash", commit)
        ctx.output("projectId", created["id"])


class GitlabPipelineTrigger(Action):
    id = "gitlab:pipeline:trigger"
    description = "Starts a pipeline of a GitLab project on a branch or tag, with variables."
    input_schema = {
        "type": "object", "required": ["repoUrl", "branch"], **LENIENT,
        "properties": {
            "repoUrl": REPO_URL, "token": TOKEN_INPUT,
            "allowedHosts": {"type": "array", "items": {"type": "string", "maxLength": 253}, "maxItems": 20},
            "projectId": {"type": "integer", "minimum": 1, "maximum": 2**53,
                          "description": "Project id; the project path of repoUrl when left out"},
            "branch": {"type": "string", "minLength": 1, "maxLength": 250},
            "variables": {"type": "object", "maxProperties": 50,
                          "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,254}$"},
                          "additionalProperties": {"type": "string", "maxLength": 10_000}},
        },
    }
    output_schema = {"type": "object", "properties": {"pipelineUrl": {"type": "string"},
                                                     "pipelineId": {"type": "integer"}}}

    def run(self, ctx: ActionContext) -> None:
        note_ignored_inputs(ctx, self)
        repo = repository_of(ctx)
        instance = connection_for(ctx, "gitlab", TITLE, repo.host)
        project = ctx.input.get("projectId") or quote(f"{repo.owner}/{repo.name}", safe="")
        body: dict[str, Any] = {"ref": ctx.input["branch"], "variables": [
            {"key": key, "value": value, "variable_type": "env_var"}
            for key, value in (ctx.input.get("variables") or {}).items()]}
        with tool_api(ctx, self.id, instance, TITLE) as api:
            pipeline = api.call("POST", f"/projects/{project}/pipeline", body, ok=(201,))
        if not isinstance(pipeline, dict) or not isinstance(pipeline.get("id"), int):
            raise ActionError(f"{ctx.step_label}: GitLab's answer has no pipeline id")
        ctx.output("pipelineId", pipeline["id"])
        if isinstance(pipeline.get("web_url"), str):
            ctx.output("pipelineUrl", pipeline["web_url"])
        ctx.log(f"Started pipeline {pipeline['id']} of {repo.owner}/{repo.name} on {body['ref']}")


def gitlab_actions() -> list[Action]:
    return [PublishGitlab(), GitlabPipelineTrigger()]
