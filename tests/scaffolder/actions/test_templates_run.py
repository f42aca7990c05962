"""The golden-path templates in templates/ run for real with steps.py: offline they publish to a local bare
repository with publish:git and register the new component, which the catalog API then serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from portal.scaffolder.actions import ActionServices, default_registry
from portal.scaffolder.steps import StepEvent, StepFailed, StepRun, run_steps
from portal.scaffolder.templates import load_template
from tests.scaffolder.actions.fake_tools import fake_github, fake_gitlab, plugin_registry, push_mirror
from tests.scaffolder.actions.git_support import last_commit, pushed_files
from tests.scaffolder.conftest import python_service_values, real_template, static_website_values

USER = {"ref": "user:default/ann", "entity": {
    "apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "ann"},
    "spec": {"profile": {"displayName": "Ann Example", "email": "ann@northwind.example"}}}}


def run_template(name: str, values: dict, workspace: Path, services: ActionServices,
                 plugins=None) -> tuple[dict, list[StepEvent]]:
    registry = default_registry(plugins=plugins)
    template = load_template(real_template(name), registry)
    events: list[StepEvent] = []
    workspace.mkdir(parents=True, exist_ok=True)
    run = StepRun(template=template, registry=registry, workspace=workspace, parameters=values, emit=events.append,
                  user=USER, template_path=template.base_path, services=services)
    return run_steps(run), events


def test_the_python_service_publishes_to_a_local_repository_and_appears_in_the_catalog(tmp_path, engine, settings,
                                                                                       client):
    output, events = run_template("python-fastapi-service", python_service_values(), tmp_path / "ws",
                                  ActionServices(settings, engine))
    bare = (settings.data_dir / "git" / "northwind" / "returns-service.git").resolve()
    files = pushed_files(bare)
    assert {"catalog-info.yaml", "app/main.py", "Dockerfile", "pyproject.toml", "README.md"} <= set(files)
    assert yaml.safe_load(files["catalog-info.yaml"])["metadata"]["name"] == "returns-service"
    commit = last_commit(bare)
    assert (commit["author"], commit["subject"]) == (
        "Ann Example", "Create returns-service from the Python service golden path")
    assert output["links"] == [
        {"title": "Repository", "icon": "flowport", "url": str(bare)},
        {"title": "Open in catalog", "icon": "catalog", "entityRef": "component:default/returns-service"}]
    statuses = [(e.step_id, e.status) for e in events if e.status]
    assert ("publish-github", "skipped") in statuses and ("publish-gitlab", "skipped") in statuses
    assert ("register", "completed") in statuses
    entity = client.get("/api/catalog/entities/by-name/component/default/returns-service").json()
    assert entity["spec"]["owner"] == "group:default/team-returns"
    assert entity["metadata"]["annotations"]["jira/project-key"] == "RET"


def test_the_static_website_runs_offline_too(tmp_path, engine, settings, client):
    output, _ = run_template("static-website", static_website_values(publishTo="flowport"), tmp_path / "ws",
                             ActionServices(settings, engine))
    bare = (settings.data_dir / "git" / "northwind" / "returns-info.git").resolve()
    assert "<h1>Returns at Northwind</h1>" in pushed_files(bare)["public/index.html"]
    assert output["links"][1]["entityRef"] == "component:default/returns-info"
    answer = client.get("/api/catalog/entities/by-name/component/default/returns-info")
    assert answer.json()["metadata"]["title"] == "Returns at Northwind"


def test_running_the_same_values_twice_fails_at_publish_and_keeps_the_first_repository(tmp_path, engine, settings):
    run_template("static-website", static_website_values(), tmp_path / "one", ActionServices(settings, engine))
    bare = (settings.data_dir / "git" / "northwind" / "returns-info.git").resolve()
    first = last_commit(bare)
    with pytest.raises(StepFailed, match="already exists with a main branch") as caught:
        run_template("static-website", static_website_values(), tmp_path / "two", ActionServices(settings, engine))
    assert caught.value.step_id == "publish"
    assert last_commit(bare) == first


def test_without_services_a_publishing_step_fails_with_a_clear_message(tmp_path):
    with pytest.raises(StepFailed, match="publish:git needs the portal's services"):
        run_template("static-website", static_website_values(), tmp_path / "ws", None)


# -- the GitHub and GitLab variants, against stubbed APIs; pushes land in local bare repositories --

def serve_pushed_file(api, path: str, bare: Path) -> None:
    """The tool's file URL answers with what the push put in the stand-in repository."""
    api.routes[("GET", path)] = lambda request: httpx.Response(200, text=pushed_files(bare)["catalog-info.yaml"])


def test_the_python_service_publishes_to_github_and_registers_the_pushed_descriptor(tmp_path, engine, settings,
                                                                                      client):
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "returns-service")
    api = fake_github()
    serve_pushed_file(api, "/northwind/returns-service/blob/main/catalog-info.yaml", bare)
    plugins = plugin_registry()
    services = ActionServices(settings.model_copy(update={"git_config_file": config}), engine, api.client, plugins)
    output, _ = run_template("python-fastapi-service", python_service_values(publishTo="github"), tmp_path / "ws",
                             services, plugins)
    assert output["links"] == [
        {"title": "Repository", "icon": "github", "url": "https://github.com/northwind/returns-service.git"},
        {"title": "Open in catalog", "icon": "catalog", "entityRef": "component:default/returns-service"}]
    assert "app/main.py" in pushed_files(bare)
    entity = client.get("/api/catalog/entities/by-name/component/default/returns-service").json()
    assert entity["metadata"]["annotations"]["github.com/project-slug"] == "northwind/returns-service"


def test_the_static_website_publishes_to_gitlab(tmp_path, engine, settings, client):
    bare, config = push_mirror(tmp_path, "gitlab.com", "northwind", "returns-info")
    api = fake_gitlab("northwind", "returns-info")
    serve_pushed_file(api, "/northwind/returns-info/-/blob/main/catalog-info.yaml", bare)
    plugins = plugin_registry()
    services = ActionServices(settings.model_copy(update={"git_config_file": config}), engine, api.client, plugins)
    values = static_website_values(publishTo="gitlab", repoUrl="gitlab.com?owner=northwind&repo=returns-info")
    output, _ = run_template("static-website", values, tmp_path / "ws", services, plugins)
    assert output["links"][0]["url"] == "https://gitlab.com/northwind/returns-info.git"
    entity = client.get("/api/catalog/entities/by-name/component/default/returns-info").json()
    assert entity["metadata"]["annotations"]["gitlab.com/project-slug"] == "northwind/returns-info"
    assert "github.com/project-slug" not in entity["metadata"]["annotations"]


def test_publishing_to_github_with_a_gitlab_repository_is_refused_by_allowed_hosts(tmp_path, engine, settings):
    plugins = plugin_registry()
    values = python_service_values(publishTo="github", repoUrl="gitlab.com?owner=northwind&repo=returns-service")
    with pytest.raises(StepFailed, match="host 'gitlab.com' is not in the step's allowedHosts") as caught:
        run_template("python-fastapi-service", values, tmp_path / "ws",
                     ActionServices(settings, engine, fake_github().client, plugins), plugins)
    assert caught.value.step_id == "publish-github"


def test_a_dry_run_of_a_golden_path_skips_every_side_effect(tmp_path, settings):
    from portal.scaffolder.dry_run import dry_run

    answer = dry_run(real_template("python-fastapi-service"), python_service_values(),
                     default_registry(plugins=plugin_registry()))
    messages = [entry["body"]["message"] for entry in answer["log"]]
    assert "Skipping because publish:git does not support dry-run" in messages
    assert "Skipping because catalog:register does not support dry-run" in messages
    assert not (settings.data_dir / "git").exists()


SKELETON_CATALOG_INFO = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.component_id }}
  description: ${{ values.description }}
  annotations:
    github.com/project-slug: ${{ values.destination.owner }}/${{ values.destination.repo }}
spec:
  type: website
  lifecycle: experimental
  owner: ${{ values.owner }}
"""


def test_a_template_published_by_backstage_runs_unchanged_against_stubbed_github(tmp_path, engine, settings, client):
    # backstage/software-templates' react-ssr-template as published; only its skeleton is ours (not in the fixture).
    from tests.conftest import FIXTURES

    folder = tmp_path / "react-ssr-template"
    (folder / "skeleton" / ".github" / "workflows").mkdir(parents=True)
    source = FIXTURES / "backstage" / "software-templates" / "react-ssr-template" / "template.yaml"
    (folder / "template.yaml").write_bytes(source.read_bytes())
    (folder / "skeleton" / "catalog-info.yaml").write_text(SKELETON_CATALOG_INFO)
    (folder / "skeleton" / ".github" / "workflows" / "build.yml").write_text("on: ${{ github.event }}\n")
    entity = yaml.safe_load(source.read_text())
    entity["metadata"]["annotations"] = {"backstage.io/managed-by-location": f"file:{folder / 'template.yaml'}"}
    bare, config = push_mirror(tmp_path, "github.com", "northwind", "shop-web")
    api = fake_github("northwind", "shop-web")
    serve_pushed_file(api, "/northwind/shop-web/blob/main/catalog-info.yaml", bare)
    plugins = plugin_registry()
    registry = default_registry(plugins=plugins)
    template = load_template(entity, registry)
    (tmp_path / "ws").mkdir()
    run = StepRun(template=template, registry=registry, workspace=tmp_path / "ws", emit=lambda event: None,
                  parameters={"component_id": "shop-web", "description": "The shop", "owner": "group:default/web",
                              "repoUrl": "github.com?owner=northwind&repo=shop-web"},
                  template_path=folder, user=USER,
                  services=ActionServices(settings.model_copy(update={"git_config_file": config}), engine,
                                          api.client, plugins))
    output = run_steps(run)
    assert output["links"][1]["entityRef"] == "component:default/shop-web"
    assert pushed_files(bare)[".github/workflows/build.yml"] == "on: ${{ github.event }}\n"
    assert client.get("/api/catalog/entities/by-name/component/default/shop-web").json()["spec"]["owner"] == \
        "group:default/web"
