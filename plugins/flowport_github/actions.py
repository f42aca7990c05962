"""GitHub's scaffolder actions: publish:github, github:repo:create and github:actions:dispatch, through the
REST API (https://docs.github.com/en/rest/repos/repos#create-an-organization-repository) with the token of
the connection serving the repository's host."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.git_cli import GitCredentials
from portal.scaffolder.actions.git_publish import COMMON_INPUTS, REPO_OUTPUT, branch_of, push_to_tool
from portal.scaffolder.actions.plugin_actions import (
    LENIENT,
    TOKEN_INPUT,
    Repository,
    ToolApi,
    connection_for,
    note_ignored_inputs,
    repository_of,
    token_of,
    tool_api,
)
from portal.scaffolder.actions.services import settings_of

TITLE = "GitHub"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
REPO_URL = {"type": "string", "maxLength": 500, "description": "github.com?owner=o&repo=r"}
REPO_INPUTS: dict[str, Any] = {
    "repoUrl": REPO_URL,
    "description": COMMON_INPUTS["description"],
    "repoVisibility": {"type": "string", "enum": ["private", "internal", "public"], "default": "private"},
    "allowedHosts": {"type": "array", "items": {"type": "string", "maxLength": 253}, "maxItems": 20},
    "homepage": {"type": "string", "maxLength": 500},
    "token": TOKEN_INPUT,
}


def create_repository(ctx: ActionContext, api: ToolApi, repo: Repository) -> dict[str, Any]:
    """Create the repository under the organization, or under the token's user when the owner is a user."""
    owner = api.call("GET", f"/users/{quote(repo.owner, safe='')}")
    body = {"name": repo.name, "private": ctx.input.get("repoVisibility", "private") != "public",
            "description": ctx.input.get("description", ""), "homepage": ctx.input.get("homepage", "")}
    if (owner or {}).get("type") == "Organization":
        body["visibility"] = ctx.input.get("repoVisibility", "private")
        path = f"/orgs/{quote(repo.owner, safe='')}/repos"
    else:
        path = "/user/repos"
    ctx.log(f"Creating the GitHub repository {repo.owner}/{repo.name}")
    created = api.call("POST", path, body, ok=(201,))
    if not isinstance(created, dict) or not isinstance(created.get("html_url"), str):
        raise ActionError(f"{ctx.step_label}: GitHub's answer to creating {repo.owner}/{repo.name} has no html_url")
    return created


def _outputs(ctx: ActionContext, repo: Repository, created: dict[str, Any]) -> None:
    # Built from the host we checked, not from the answer, so a stub or proxy cannot point the push elsewhere.
    ctx.output("remoteUrl", f"https://{repo.host}/{repo.owner}/{repo.name}.git")
    ctx.output("repoContentsUrl", f"https://{repo.host}/{repo.owner}/{repo.name}/blob/{branch_of(ctx)}")


class GithubRepoCreate(Action):
    id = "github:repo:create"
    description = "Creates a GitHub repository (organization or user) without pushing anything."
    input_schema = {"type": "object", "required": ["repoUrl"], **LENIENT,
                    "properties": {**REPO_INPUTS, "defaultBranch": COMMON_INPUTS["defaultBranch"]}}
    output_schema = REPO_OUTPUT

    def run(self, ctx: ActionContext) -> None:
        note_ignored_inputs(ctx, self)
        repo = repository_of(ctx)
        instance = connection_for(ctx, "github", TITLE, repo.host)
        with tool_api(ctx, self.id, instance, TITLE, API_HEADERS) as api:
            created = create_repository(ctx, api, repo)
        _outputs(ctx, repo, created)


class PublishGithub(Action):
    id = "publish:github"
    description = "Creates a GitHub repository and pushes the workspace to it."
    input_schema = {"type": "object", "required": ["repoUrl"], **LENIENT,
                    "properties": {**REPO_INPUTS, **COMMON_INPUTS}}
    output_schema = REPO_OUTPUT

    def run(self, ctx: ActionContext) -> None:
        note_ignored_inputs(ctx, self)
        settings = settings_of(ctx, self.id)
        repo = repository_of(ctx)
        instance = connection_for(ctx, "github", TITLE, repo.host)
        with tool_api(ctx, self.id, instance, TITLE, API_HEADERS) as api:
            created = create_repository(ctx, api, repo)
        # The token reaches git only through the askpass helper's environment (portal/scaffolder/actions/git_cli.py).
        credentials = GitCredentials("x-access-token", token_of(ctx, instance))
        commit = push_to_tool(ctx, settings, f"https://{repo.host}/{repo.owner}/{repo.name}.git", credentials)
        _outputs(ctx, repo, created)
        ctx.output("commitHash", commit)


class GithubActionsDispatch(Action):
    id = "github:actions:dispatch"
    description = "Starts a GitHub Actions workflow that has a workflow_dispatch trigger."
    input_schema = {
        "type": "object", "required": ["repoUrl", "workflowId", "branchOrTagName"], **LENIENT,
        "properties": {
            "repoUrl": REPO_URL, "allowedHosts": REPO_INPUTS["allowedHosts"], "token": TOKEN_INPUT,
            "workflowId": {"type": ["string", "integer"], "minLength": 1, "maxLength": 200, "minimum": 1,
                           "maximum": 2**53, "description": "Workflow file name (ci.yaml) or id"},
            "branchOrTagName": {"type": "string", "minLength": 1, "maxLength": 250},
            "workflowInputs": {"type": "object", "maxProperties": 25,
                               "additionalProperties": {"type": ["string", "number", "boolean"]}},
        },
    }
    output_schema = {"type": "object"}

    def run(self, ctx: ActionContext) -> None:
        note_ignored_inputs(ctx, self)
        repo = repository_of(ctx)
        workflow = str(ctx.input["workflowId"])
        if "/" in workflow or workflow in (".", ".."):
            raise ActionError(f"{ctx.step_label}: input.workflowId {workflow!r} must be a file name or an id")
        instance = connection_for(ctx, "github", TITLE, repo.host)
        path = (f"/repos/{quote(repo.owner, safe='')}/{quote(repo.name, safe='')}/actions/workflows/"
                f"{quote(workflow, safe='')}/dispatches")
        body = {"ref": ctx.input["branchOrTagName"], "inputs": ctx.input.get("workflowInputs") or {}}
        with tool_api(ctx, self.id, instance, TITLE, API_HEADERS) as api:
            api.call("POST", path, body, ok=(204,))
        ctx.log(f"Started workflow {workflow} of {repo.owner}/{repo.name} on {body['ref']}")


def github_actions() -> list[Action]:
    return [PublishGithub(), GithubRepoCreate(), GithubActionsDispatch()]
