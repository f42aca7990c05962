"""Dry runs, including the golden paths in templates/ rendered for real."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from portal.scaffolder.dry_run import DryRunFailed, InvalidValues, dry_run
from portal.scaffolder.templates import TemplateError
from tests.scaffolder.conftest import (
    TEMPLATES,
    make_template,
    python_service_values,
    real_template,
    static_website_values,
)


def file_text(answer: dict, path: str) -> str:
    by_path = {entry["path"]: entry for entry in answer["directoryContents"]}
    return base64.b64decode(by_path[path]["base64Content"]).decode("utf-8")


def skeleton_contents(folder: Path) -> list[dict]:
    return [{"path": p.relative_to(folder).as_posix(), "base64Content": base64.b64encode(p.read_bytes()).decode(),
             "executable": False} for p in sorted(folder.rglob("*")) if p.is_file()]


def test_the_python_service_golden_path_dry_runs(registry):
    answer = dry_run(real_template("python-fastapi-service"), python_service_values(), registry)
    assert set(answer) == {"log", "directoryContents", "output", "steps"}
    catalog_info = yaml.safe_load(file_text(answer, "catalog-info.yaml"))
    assert catalog_info["metadata"]["name"] == "returns-service"
    assert catalog_info["spec"]["owner"] == "group:default/team-returns"
    assert catalog_info["spec"]["system"] == "logistics"
    assert catalog_info["metadata"]["annotations"]["github.com/project-slug"] == "northwind/returns-service"
    assert catalog_info["metadata"]["annotations"]["jira/project-key"] == "RET"
    assert "--port 8081" in file_text(answer, "README.md")
    assert 'requires-python = ">=3.13"' in file_text(answer, "pyproject.toml")
    assert [{key: step[key] for key in ("id", "name", "action")} for step in answer["steps"]] == [
        {"id": "fetch", "name": "Render the skeleton", "action": "fetch:template"},
        {"id": "publish", "name": "Publish to Flowport's git server", "action": "publish:git"},
        {"id": "publish-github", "name": "Publish to GitHub", "action": "publish:github"},
        {"id": "publish-gitlab", "name": "Publish to GitLab", "action": "publish:gitlab"},
        {"id": "register", "name": "Register in the catalog", "action": "catalog:register"}]
    assert [entry["body"].get("status") for entry in answer["log"]] == [
        "processing", None, "completed", "skipped", "skipped", "skipped", "skipped"]
    assert answer["output"]["links"] == [
        {"title": "Repository", "icon": "flowport", "url": "[dry-run: publish.remoteUrl]"},
        {"title": "Open in catalog", "icon": "catalog", "entityRef": "[dry-run: register.entityRef]"}]


def test_the_static_website_golden_path_dry_runs(registry):
    answer = dry_run(real_template("static-website"), static_website_values(), registry)
    catalog_info = yaml.safe_load(file_text(answer, "catalog-info.yaml"))
    assert (catalog_info["metadata"]["name"], catalog_info["metadata"]["title"]) == ("returns-info", "Returns at Northwind")
    assert catalog_info["spec"]["owner"] == "group:default/team-returns"
    assert catalog_info["metadata"]["links"][0]["url"] == "https://returns-info.sites.northwind.example/"
    assert "<h1>Returns at Northwind</h1>" in file_text(answer, "public/index.html")
    assert "--accent: #00875a;" in file_text(answer, "public/styles.css")
    assert answer["output"]["links"][2] == {"title": "Website (live after the first pipeline run)", "icon": "web",
                                            "url": "https://returns-info.sites.northwind.example/"}


def test_values_that_fail_the_parameters_are_refused_with_field_paths(registry):
    values = static_website_values(name="Not A Valid Name", accent_color="#ffffff")
    with pytest.raises(InvalidValues) as caught:
        dry_run(real_template("static-website"), values, registry)
    assert [error.path for error in caught.value.errors] == ["accent_color", "name"]


def test_a_template_with_an_unknown_action_is_refused_at_dry_run(registry):
    entity = make_template([{"id": "x", "action": "shell:exec", "input": {"command": "rm -rf /"}}])
    with pytest.raises(TemplateError, match="step 'x' \\(#1\\): unknown action 'shell:exec'"):
        dry_run(entity, {}, registry)


def test_directory_contents_are_the_template_files_as_the_template_editor_sends_them(registry):
    entity = make_template([{"id": "fetch", "action": "fetch:template",
                             "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}}}])
    contents = [{"path": "template.yaml", "base64Content": base64.b64encode(b"ignored").decode()},
                *[{**e, "path": f"skeleton/{e['path']}"} for e in skeleton_contents(TEMPLATES / "static-website" / "skeleton")]]
    answer = dry_run(entity, {"name": "from-editor"}, registry, directory_contents=contents)
    assert "  name: from-editor\n" in file_text(answer, "catalog-info.yaml")
    assert "template.yaml" not in {entry["path"] for entry in answer["directoryContents"]}


def test_a_failing_step_gives_its_log_so_far(registry):
    entity = make_template([{"id": "hello", "action": "debug:log", "input": {"message": "hello"}},
                            {"id": "fetch", "action": "fetch:plain", "input": {"url": "./missing"}}])
    with pytest.raises(DryRunFailed) as caught:
        dry_run(entity, {}, registry, template_path=TEMPLATES / "static-website")
    assert caught.value.step_id == "fetch"
    assert "'missing' does not exist in the template's folder" in str(caught.value)
    assert [entry["body"]["message"] for entry in caught.value.log][:2] == ["Beginning step debug:log", "hello"]
    assert caught.value.log[-1]["body"]["status"] == "failed"


def test_secrets_are_masked_in_the_dry_run_log(registry):
    entity = make_template([{"id": "log", "action": "debug:log", "input": {"message": "using ${{ secrets.token }}"}}])
    answer = dry_run(entity, {}, registry, secrets={"token": "ghp_abcdef123456"})
    assert "using ***" in [entry["body"]["message"] for entry in answer["log"]]
    assert "ghp_abcdef123456" not in str(answer)


def test_catalog_write_builds_the_descriptor_from_parameters(registry):
    entity = make_template(
        [{"id": "write", "action": "catalog:write", "input": {"entity": {
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "${{ parameters.name }}"},
            "spec": {"owner": "${{ parameters.owner | parseEntityRef(defaultKind='group') | pick('name') }}",
                     "type": "service", "lifecycle": "experimental"}}}}],
        parameters={"required": ["name", "owner"], "properties": {"name": {"type": "string"}, "owner": {"type": "string"}}})
    answer = dry_run(entity, {"name": "billing", "owner": "team-money"}, registry)
    assert yaml.safe_load(file_text(answer, "catalog-info.yaml"))["spec"]["owner"] == "team-money"


def test_steps_without_id_or_name_get_backstages_defaults(registry):
    entity = make_template([{"action": "debug:log", "input": {"message": "one"}},
                            {"action": "debug:log", "name": "Second", "if": "${{ true }}"}])
    answer = dry_run(entity, {}, registry)
    assert answer["steps"] == [
        {"id": "step-1", "name": "debug:log", "action": "debug:log", "input": {"message": "one"}},
        {"id": "step-2", "name": "Second", "action": "debug:log", "if": "${{ true }}"}]
    assert answer["log"][1]["body"] == {"message": "one", "stepId": "step-1"}
