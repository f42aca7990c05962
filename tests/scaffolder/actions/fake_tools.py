"""Stubs of GitHub's and GitLab's REST APIs (httpx.MockTransport) for the plugin actions, answering with
objects adapted from the real payloads in the shared fixtures, plus a git config that sends the tool's
https push to a local bare repository, so the push really happens."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from portal.plugins.registry import PluginRegistry
from tests.conftest import FIXTURES
from tests.scaffolder.actions.git_support import bare_repo

GITHUB_TOKEN = "ghp_flowportTestToken0123456789abcdefXYZ"
GITLAB_TOKEN = "glpat-flowportTestToken0123"


@dataclass
class FakeApi:
    """Routes `(method, path)` → response (or callable); records each request with its decoded JSON body."""

    base: str
    routes: dict[tuple[str, str], Any] = field(default_factory=dict)
    requests: list[tuple[str, str, Any, dict[str, str]]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, path, body, dict(request.headers)))
        answer = self.routes.get((request.method, path))
        if answer is None:
            return httpx.Response(404, json={"message": "Not Found"})
        return answer(request) if callable(answer) else answer

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=timeout)

    def calls(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.requests]


def github_repository(owner: str, name: str) -> dict:
    """GitHub's repository object (from a real push payload), renamed."""
    payload = json.loads((FIXTURES / "github" / "octokit-webhooks" / "push" / "with-new-branch.payload.json").read_text())
    repo = copy.deepcopy(payload["repository"])
    repo.update(name=name, full_name=f"{owner}/{name}", html_url=f"https://github.com/{owner}/{name}",
                clone_url=f"https://github.com/{owner}/{name}.git", private=True, visibility="internal",
                default_branch="main")
    repo["owner"] = {**repo["owner"], "login": owner, "type": "Organization"}
    return repo


def fake_github(owner: str = "northwind", name: str = "returns-service") -> FakeApi:
    api = FakeApi("https://api.github.com")
    api.routes[("GET", f"/users/{owner}")] = httpx.Response(200, json={"login": owner, "id": 9919,
                                                                        "type": "Organization"})
    api.routes[("POST", f"/orgs/{owner}/repos")] = httpx.Response(201, json=github_repository(owner, name))
    return api


GITHUB_NAME_TAKEN = httpx.Response(422, json={
    "message": "Repository creation failed.", "errors": [{"resource": "Repository", "code": "custom", "field": "name",
                                                          "message": "name already exists on this account"}],
    "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository", "status": "422"})
GITHUB_BAD_CREDENTIALS = httpx.Response(401, json={"message": "Bad credentials",
                                                   "documentation_url": "https://docs.github.com/rest", "status": "401"})
GITHUB_RATE_LIMITED = httpx.Response(403, headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                                   "x-ratelimit-used": "5000", "x-ratelimit-reset": "1765015200",
                                                   "x-ratelimit-resource": "core"},
                                     json={"message": "API rate limit exceeded for user ID 9919.",
                                           "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
SERVER_ERROR = httpx.Response(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                              headers={"content-type": "text/html"})


def gitlab_project(namespace: str, name: str, project_id: int = 1001) -> dict:
    """GitLab's project object, from the fields a real pipeline hook's project carries, adapted."""
    payload = json.loads((FIXTURES / "gitlab" / "go-gitlab" / "pipeline.json").read_text())
    project = copy.deepcopy(payload["project"])
    web = f"https://gitlab.com/{namespace}/{name}"
    project.update(id=project_id, name=name, path=name, path_with_namespace=f"{namespace}/{name}", web_url=web,
                   http_url_to_repo=f"{web}.git", ssh_url_to_repo=f"git@gitlab.com:{namespace}/{name}.git",
                   default_branch="main", visibility="internal")
    for stale in ("git_ssh_url", "git_http_url", "visibility_level"):
        project.pop(stale, None)
    return project


def fake_gitlab(namespace: str = "northwind", name: str = "returns-service") -> FakeApi:
    api = FakeApi("https://gitlab.com/api/v4")
    api.routes[("GET", f"/api/v4/namespaces/{namespace}")] = httpx.Response(200, json={
        "id": 42, "name": namespace.title(), "path": namespace, "kind": "group", "full_path": namespace,
        "parent_id": None, "web_url": f"https://gitlab.com/groups/{namespace}"})
    api.routes[("POST", "/api/v4/projects")] = httpx.Response(201, json=gitlab_project(namespace, name))
    return api


def plugin_registry(github_token: str | None = GITHUB_TOKEN, gitlab_token: str | None = GITLAB_TOKEN,
                    github_api: str = "https://api.github.com") -> PluginRegistry:
    from flowport_github import GitHubPlugin
    from flowport_gitlab import GitLabPlugin

    registry = PluginRegistry()
    registry.add_class(GitHubPlugin)
    registry.add_class(GitLabPlugin)
    registry.configure("github", {"name": "default", "api_url": github_api,
                                  **({"token": github_token} if github_token else {})})
    registry.configure("gitlab", {"name": "default", **({"token": gitlab_token} if gitlab_token else {})})
    return registry


def push_mirror(tmp_path: Path, host: str, owner: str, name: str) -> tuple[Path, Path]:
    """A bare repository standing in for the tool's, and a git config rewriting https://<host>/ to its folder."""
    folder = tmp_path / "remotes" / host
    bare = bare_repo(folder / owner / f"{name}.git")
    config = tmp_path / f"gitconfig-{host}"
    config.write_text(f'[url "{folder}/"]\n\tinsteadOf = https://{host}/\n')
    return bare, config
