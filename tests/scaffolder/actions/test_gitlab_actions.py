"""publish:gitlab and gitlab:pipeline:trigger against a stubbed GitLab REST API; the push really happens."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from portal.scaffolder.actions import ActionError, default_registry, validate_action_input
from portal.scaffolder.actions.contract import ActionInputError
from tests.scaffolder.actions.fake_tools import GITLAB_TOKEN, SERVER_ERROR, fake_gitlab, plugin_registry, push_mirror
from tests.scaffolder.actions.git_support import action_settings, last_commit, pushed_files, services
from tests.scaffolder.actions.helpers import make_context

REPO_URL = "gitlab.com?owner=northwind&repo=returns-service"


def run(tmp_path, action_id, api, settings=None, plugins=None, **inputs):
    plugins = plugins or plugin_registry()
    action = default_registry(plugins=plugins).runnable(action_id)
    validate_action_input(action, inputs, "step")
    folder = tmp_path / "workspace"
    folder.mkdir(exist_ok=True)
    (folder / "catalog-info.yaml").write_text("kind: Component\n")
    ctx, lines = make_context(folder, input=inputs, services=services(settings or action_settings(tmp_path),
                                                                      http=api.client, plugins=plugins))
    action.run(ctx)
    return ctx.outputs, lines


def test_publish_gitlab_creates_the_project_in_its_group_and_pushes(tmp_path, monkeypatch):
    bare, config = push_mirror(tmp_path, "gitlab.com", "northwind", "returns-service")
    api = fake_gitlab()
    argvs: list[list[str]] = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, argv, **options):
            argvs.append(list(argv))
            super().__init__(argv, **options)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    outputs, lines = run(tmp_path, "publish:gitlab", api, action_settings(tmp_path, git_config_file=config),
                         repoUrl=REPO_URL, description="Returns", repoVisibility="internal")
    assert api.calls() == [("GET", "/api/v4/namespaces/northwind"), ("POST", "/api/v4/projects")]
    assert api.requests[1][2] == {"name": "returns-service", "path": "returns-service", "namespace_id": 42,
                                  "visibility": "internal", "description": "Returns", "initialize_with_readme": False}
    assert api.requests[1][3]["authorization"] == f"Bearer {GITLAB_TOKEN}"
    assert pushed_files(bare) == {"catalog-info.yaml": "kind: Component\n"}
    assert outputs == {"remoteUrl": "https://gitlab.com/northwind/returns-service.git",
                       "repoContentsUrl": "https://gitlab.com/northwind/returns-service/-/blob/main",
                       "commitHash": last_commit(bare)["hash"], "projectId": 1001}
    assert any("push" in argv for argv in argvs)
    assert not any(GITLAB_TOKEN in part for argv in argvs for part in argv)
    assert not any(GITLAB_TOKEN in line for line in lines)


def test_a_subgroup_namespace_is_looked_up_url_encoded(tmp_path):
    api = fake_gitlab("northwind/platform")
    api.routes[("GET", "/api/v4/namespaces/northwind%2Fplatform")] = api.routes.pop(
        ("GET", "/api/v4/namespaces/northwind/platform"))
    bare, config = push_mirror(tmp_path, "gitlab.com", "northwind/platform", "returns-service")
    run(tmp_path, "publish:gitlab", api, action_settings(tmp_path, git_config_file=config),
        repoUrl="gitlab.com?owner=northwind/platform&repo=returns-service")
    assert api.calls()[0] == ("GET", "/api/v4/namespaces/northwind%2Fplatform")
    assert "catalog-info.yaml" in pushed_files(bare)


@pytest.mark.parametrize(("answer", "reason"), [
    (httpx.Response(400, json={"message": {"name": ["has already been taken"], "path": ["has already been taken"]}}),
     "400 \\(name has already been taken; path has already been taken\\)"),
    (httpx.Response(401, json={"message": "401 Unauthorized"}), "401, the connection's token was not accepted"),
    (httpx.Response(429, headers={"ratelimit-remaining": "0", "ratelimit-reset": "1765015200", "retry-after": "60"},
                    text="Retry later"), "429, rate limit reached until 10:00:00 UTC"),
    (SERVER_ERROR, "502, GitLab failed on its side"),
])
def test_gitlab_refusals_are_explained(tmp_path, answer, reason):
    api = fake_gitlab()
    api.routes[("POST", "/api/v4/projects")] = answer
    with pytest.raises(ActionError, match=f"GitLab refused POST /projects: {reason}"):
        run(tmp_path, "publish:gitlab", api, repoUrl=REPO_URL)


def test_an_unknown_namespace_is_explained(tmp_path):
    api = fake_gitlab()
    del api.routes[("GET", "/api/v4/namespaces/northwind")]
    with pytest.raises(ActionError, match="GitLab refused GET /namespaces/northwind: 404 \\(Not Found\\)"):
        run(tmp_path, "publish:gitlab", api, repoUrl=REPO_URL)


def test_pipeline_trigger_starts_a_pipeline_with_variables(tmp_path):
    api = fake_gitlab()
    api.routes[("POST", "/api/v4/projects/northwind%2Freturns-service/pipeline")] = httpx.Response(201, json={
        "id": 287, "iid": 12, "project_id": 1001, "status": "created", "ref": "main", "source": "api",
        "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
        "web_url": "https://gitlab.com/northwind/returns-service/-/pipelines/287"})
    outputs, _ = run(tmp_path, "gitlab:pipeline:trigger", api, repoUrl=REPO_URL, branch="main",
                     variables={"DEPLOY_ENV": "staging"})
    assert api.requests[-1][2] == {"ref": "main", "variables": [
        {"key": "DEPLOY_ENV", "value": "staging", "variable_type": "env_var"}]}
    assert outputs == {"pipelineId": 287, "pipelineUrl": "https://gitlab.com/northwind/returns-service/-/pipelines/287"}


def test_pipeline_trigger_by_project_id(tmp_path):
    api = fake_gitlab()
    api.routes[("POST", "/api/v4/projects/1001/pipeline")] = httpx.Response(201, json={"id": 5, "status": "created"})
    outputs, _ = run(tmp_path, "gitlab:pipeline:trigger", api, repoUrl=REPO_URL, branch="main", projectId=1001)
    assert outputs == {"pipelineId": 5}


@pytest.mark.parametrize("inputs", [
    {"repoUrl": REPO_URL}, {"repoUrl": REPO_URL, "branch": "main", "projectId": 2**64},
    {"repoUrl": REPO_URL, "branch": "main", "projectId": "1; rm"},
    {"repoUrl": REPO_URL, "branch": "main", "variables": {"BAD NAME": "x"}},
    {"repoUrl": REPO_URL, "branch": "main", "variables": {"A": 1}},
])
def test_pipeline_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    action = default_registry(plugins=plugin_registry()).runnable("gitlab:pipeline:trigger")
    with pytest.raises(ActionInputError):
        validate_action_input(action, inputs, "step")
