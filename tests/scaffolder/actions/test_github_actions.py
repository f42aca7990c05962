"""publish:github, github:repo:create and github:actions:dispatch against a stubbed GitHub REST API; the git
push really happens, into a local bare repository standing in for github.com."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from portal.scaffolder.actions import ActionError, default_registry, validate_action_input
from portal.scaffolder.actions.contract import ActionInputError
from tests.scaffolder.actions.fake_tools import (
    GITHUB_BAD_CREDENTIALS,
    GITHUB_NAME_TAKEN,
    GITHUB_RATE_LIMITED,
    GITHUB_TOKEN,
    SERVER_ERROR,
    fake_github,
    plugin_registry,
    push_mirror,
)
from tests.scaffolder.actions.git_support import action_settings, last_commit, pushed_files, services
from tests.scaffolder.actions.helpers import make_context

REPO_URL = "github.com?owner=northwind&repo=returns-service"


def workspace(tmp_path):
    folder = tmp_path / "workspace"
    folder.mkdir(exist_ok=True)
    (folder / "catalog-info.yaml").write_text("kind: Component\n")
    return folder


def run(tmp_path, action_id, api, settings=None, plugins=None, **inputs):
    registry = default_registry(plugins=plugins or plugin_registry())
    action = registry.runnable(action_id)
    assert action is not None
    validate_action_input(action, inputs, "step")
    settings = settings or action_settings(tmp_path)
    ctx, lines = make_context(workspace(tmp_path), input=inputs,
                              services=services(settings, http=api.client, plugins=plugins or plugin_registry()))
    action.run(ctx)
    return ctx.outputs, lines


def test_publish_github_creates_the_repository_and_pushes_with_the_token_kept_off_the_command_line(
        tmp_path, monkeypatch):
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "returns-service")
    api = fake_github()
    seen: list[tuple[list[str], dict[str, str]]] = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, argv, **options):
            seen.append((list(argv), dict(options.get("env") or {})))
            super().__init__(argv, **options)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    settings = action_settings(tmp_path, git_config_file=config)
    outputs, lines = run(tmp_path, "publish:github", api, settings, repoUrl=REPO_URL, description="Returns",
                         repoVisibility="internal", allowedHosts=["github.com"])
    assert api.calls() == [("GET", "/users/northwind"), ("POST", "/orgs/northwind/repos")]
    _, _, body, headers = api.requests[1]
    assert body == {"name": "returns-service", "private": True, "description": "Returns", "homepage": "",
                    "visibility": "internal"}
    assert headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert pushed_files(bare) == {"catalog-info.yaml": "kind: Component\n"}
    assert outputs == {"remoteUrl": "https://github.com/northwind/returns-service.git",
                       "repoContentsUrl": "https://github.com/northwind/returns-service/blob/main",
                       "commitHash": last_commit(bare)["hash"]}
    push = next((argv, env) for argv, env in seen if "push" in argv)
    assert push[1]["FLOWPORT_GIT_USERNAME"] == "x-access-token"
    assert push[1]["FLOWPORT_GIT_PASSWORD"] == GITHUB_TOKEN
    assert push[1]["GIT_ASKPASS"].endswith("askpass.py")
    assert not any(GITHUB_TOKEN in part for argv, _ in seen for part in argv)
    assert not any(GITHUB_TOKEN in line for line in lines)


def test_the_askpass_helper_answers_git_with_the_user_name_and_token(tmp_path):
    from portal.scaffolder.actions.git_cli import GitCredentials, git_session

    with git_session(10, credentials=GitCredentials("x-access-token", GITHUB_TOKEN)) as git:
        env = git.environment()
        ask = [env["GIT_ASKPASS"]]
        user = subprocess.run([*ask, "Username for 'https://github.com': "], env=env, capture_output=True, text=True)
        password = subprocess.run([*ask, "Password for 'https://x-access-token@github.com': "], env=env,
                                  capture_output=True, text=True)
    assert (user.stdout, password.stdout) == ("x-access-token", GITHUB_TOKEN)


def test_a_user_owner_gets_the_repository_under_the_tokens_user(tmp_path):
    bare, config = push_mirror(tmp_path, "github.com", "ann", "scratch")
    api = fake_github("ann", "scratch")
    api.routes[("GET", "/users/ann")] = httpx.Response(200, json={"login": "ann", "type": "User"})
    api.routes[("POST", "/user/repos")] = api.routes.pop(("POST", "/orgs/ann/repos"))
    run(tmp_path, "publish:github", api, action_settings(tmp_path, git_config_file=config),
        repoUrl="github.com?owner=ann&repo=scratch")
    assert api.calls()[-1] == ("POST", "/user/repos")
    assert "visibility" not in api.requests[-1][2]
    assert "catalog-info.yaml" in pushed_files(bare)


@pytest.mark.parametrize(("answer", "reason"), [
    (GITHUB_NAME_TAKEN, "422 \\(Repository creation failed.; name already exists on this account\\)"),
    (GITHUB_BAD_CREDENTIALS, "401, the connection's token was not accepted \\(Bad credentials\\)"),
    (GITHUB_RATE_LIMITED, "403, rate limit reached until 10:00:00 UTC \\(API rate limit exceeded"),
    (SERVER_ERROR, "502, GitHub failed on its side; run the template again later"),
])
def test_github_refusals_are_explained_and_nothing_is_pushed(tmp_path, answer, reason):
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "returns-service")
    api = fake_github()
    api.routes[("POST", "/orgs/northwind/repos")] = answer
    with pytest.raises(ActionError, match=f"GitHub refused POST /orgs/northwind/repos: {reason}"):
        run(tmp_path, "publish:github", api, action_settings(tmp_path, git_config_file=config), repoUrl=REPO_URL)
    with pytest.raises(subprocess.CalledProcessError):
        pushed_files(bare)


def test_a_timeout_of_the_api_is_a_readable_error(tmp_path):
    api = fake_github()

    def slow(request):
        raise httpx.ConnectTimeout("timed out", request=request)

    api.routes[("GET", "/users/northwind")] = slow
    with pytest.raises(ActionError, match="GitHub did not answer GET /users/northwind in time"):
        run(tmp_path, "github:repo:create", api, repoUrl=REPO_URL)


def test_repo_create_only_creates(tmp_path):
    api = fake_github()
    outputs, _ = run(tmp_path, "github:repo:create", api, repoUrl=REPO_URL, repoVisibility="public")
    assert api.requests[-1][2]["private"] is False
    assert outputs["remoteUrl"] == "https://github.com/northwind/returns-service.git"


def test_the_connection_is_chosen_by_the_repository_host(tmp_path):
    api = fake_github()
    plugins = plugin_registry(github_api="https://ghe.northwind.example/api/v3")
    with pytest.raises(ActionError, match="no GitHub connection serves github.com; add one whose api_url is on "
                                          "github.com"):
        run(tmp_path, "github:repo:create", api, plugins=plugins, repoUrl=REPO_URL)
    with pytest.raises(ActionError, match="has no token"):
        run(tmp_path, "github:repo:create", api, plugins=plugin_registry(github_token=None), repoUrl=REPO_URL)
    assert api.requests == []


def test_dispatch_starts_a_workflow(tmp_path):
    api = fake_github()
    path = "/repos/northwind/returns-service/actions/workflows/ci.yaml/dispatches"
    api.routes[("POST", path)] = httpx.Response(204)
    _, lines = run(tmp_path, "github:actions:dispatch", api, repoUrl=REPO_URL, workflowId="ci.yaml",
                   branchOrTagName="main", workflowInputs={"environment": "staging", "dryRun": True})
    assert api.requests[-1][:3] == ("POST", path, {"ref": "main", "inputs": {"environment": "staging",
                                                                             "dryRun": True}})
    assert lines[-1] == "Started workflow ci.yaml of northwind/returns-service on main"


@pytest.mark.parametrize(("inputs", "reason"), [
    ({"repoUrl": "github.com?owner=..&repo=x"}, "not a usable owner or repository name"),
    ({"repoUrl": "github.com?owner=a%2F..&repo=x"}, "not a usable owner or repository name"),
    ({"repoUrl": "github.com?repo=x"}, "is missing owner"),
    ({"repoUrl": "evil.example?owner=a&repo=b", "allowedHosts": ["github.com"]}, "not in the step's allowedHosts"),
    ({"repoUrl": REPO_URL, "workflowId": "../../x"}, "must be a file name or an id"),
])
def test_hostile_inputs_are_refused_before_any_call(tmp_path, inputs, reason):
    api = fake_github()
    values = {"workflowId": "ci.yaml", "branchOrTagName": "main", **inputs}
    with pytest.raises(ActionError, match=reason):
        run(tmp_path, "github:actions:dispatch", api, **values)
    assert api.requests == []


@pytest.mark.parametrize("inputs", [
    {}, {"repoUrl": 5}, {"repoUrl": REPO_URL, "workflowId": 2**64, "branchOrTagName": "main"},
    {"repoUrl": REPO_URL, "workflowId": "ci.yaml", "branchOrTagName": ""},
    {"repoUrl": REPO_URL, "workflowId": "ci.yaml", "branchOrTagName": "main", "workflowInputs": {"a": {"b": 1}}},
])
def test_dispatch_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    action = default_registry(plugins=plugin_registry()).runnable("github:actions:dispatch")
    with pytest.raises(ActionInputError):
        validate_action_input(action, inputs, "step")


def test_backstage_inputs_flowport_does_not_use_are_accepted_and_named(tmp_path):
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "returns-service")
    outputs, lines = run(tmp_path, "publish:github", fake_github(), action_settings(tmp_path, git_config_file=config),
                         repoUrl=REPO_URL, token=False, protectDefaultBranch=True, topics=["python"])
    assert "Ignoring inputs protectDefaultBranch, topics: publish:github in Flowport does not use them" in lines
    assert outputs["commitHash"] == last_commit(bare)["hash"]


def test_a_users_own_token_is_used_instead_of_the_connections(tmp_path):
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "returns-service")
    api = fake_github()
    user_token = "gho_usersOwnOAuthToken987"
    _, lines = run(tmp_path, "publish:github", api, action_settings(tmp_path, git_config_file=config),
                   plugins=plugin_registry(github_token=None), repoUrl=REPO_URL, token=user_token)
    assert {headers["authorization"] for _, _, _, headers in api.requests} == {f"Bearer {user_token}"}
    assert "catalog-info.yaml" in pushed_files(bare)
    assert not any(user_token in line for line in lines)


def test_a_github_enterprise_repository_uses_the_connection_on_its_host(tmp_path):
    api = fake_github()
    api.routes = {("GET", "/api/v3/users/northwind"): api.routes[("GET", "/users/northwind")],
                  ("POST", "/api/v3/orgs/northwind/repos"): api.routes[("POST", "/orgs/northwind/repos")]}
    plugins = plugin_registry(github_api="https://ghe.northwind.example/api/v3")
    outputs, lines = run(tmp_path, "github:repo:create", api, plugins=plugins,
                         repoUrl="ghe.northwind.example?owner=northwind&repo=returns-service")
    assert api.calls() == [("GET", "/api/v3/users/northwind"), ("POST", "/api/v3/orgs/northwind/repos")]
    assert outputs["remoteUrl"] == "https://ghe.northwind.example/northwind/returns-service.git"
    assert "Using the GitHub connection 'default'" in lines
