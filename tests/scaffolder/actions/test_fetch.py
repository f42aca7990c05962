from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.scaffolder.actions import ActionError
from portal.scaffolder.actions.fetch import FetchPlain, FetchPlainFile, FetchTemplate, glob_pattern
from portal.scaffolder.actions.paths import FileLimits, UnsafePathError
from portal.scaffolder.expressions import ExpressionError
from tests.scaffolder.actions.helpers import make_context
from tests.scaffolder.conftest import TEMPLATES

PYTHON_SERVICE = TEMPLATES / "python-fastapi-service"
WEBSITE = TEMPLATES / "static-website"
VALUES = {"name": "returns-service", "description": "Handles parcel returns.", "owner": "group:default/team-returns",
          "system": "logistics", "python_version": "3.13", "port": 8081, "jira_key": "RET",
          "destination": {"host": "github.com", "owner": "northwind", "repo": "returns-service"}}


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def skeleton(tmp_path: Path, files: dict[str, str]) -> Path:
    """A template folder with a skeleton/ of the given files."""
    (tmp_path / "template" / "skeleton").mkdir(parents=True)
    for name, content in files.items():
        (tmp_path / "template" / "skeleton" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "template" / "skeleton" / name).write_text(content)
    (tmp_path / "workspace").mkdir()
    return tmp_path / "template"


def test_fetch_template_renders_the_python_service_skeleton(tmp_path):
    ctx, lines = make_context(tmp_path, PYTHON_SERVICE, input={"url": "./skeleton", "values": VALUES})
    FetchTemplate().run(ctx)
    assert files_under(tmp_path) == files_under(PYTHON_SERVICE / "skeleton")
    catalog_info = (tmp_path / "catalog-info.yaml").read_text()
    assert "  name: returns-service\n" in catalog_info
    assert "  owner: group:default/team-returns\n" in catalog_info
    assert "github.com/project-slug: northwind/returns-service" in catalog_info
    assert "FROM python:3.13-slim" in (tmp_path / "Dockerfile").read_text()
    assert 'app = FastAPI(title="returns-service"' in (tmp_path / "app" / "main.py").read_text()
    rendered = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert not any("${{" in text for text in rendered)
    assert all(text.endswith("\n") for text in rendered if text), "a rendered file lost its last newline"
    assert lines == ["Rendering 10 files from ./skeleton into the workspace"]


def test_fetch_template_honours_target_path_and_copy_without_templating(tmp_path):
    values = {"name": "returns-info", "site_title": "Returns", "description": "d", "owner": "group:team-a",
              "system": "s", "accent_color": "#00875a", "destination": {"owner": "northwind", "repo": "r"}}
    ctx, _ = make_context(tmp_path, WEBSITE, input={"url": "./skeleton", "targetPath": "site", "values": values,
                                                     "copyWithoutTemplating": [".github/workflows/*"]})
    FetchTemplate().run(ctx)
    assert "--accent: #00875a;" in (tmp_path / "site" / "public" / "styles.css").read_text()
    workflow = (tmp_path / "site" / ".github" / "workflows" / "ci.yaml").read_text()
    assert "site-name: ${{ values.name }}" in workflow


def test_file_and_folder_names_are_rendered(tmp_path):
    template = skeleton(tmp_path, {"${{ values.name }}/${{ values.name }}.py": "NAME = '${{ values.name }}'\n"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": {"name": "svc"}})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "svc" / "svc.py").read_text() == "NAME = 'svc'\n"


def test_a_name_rendering_to_nothing_skips_the_file(tmp_path):
    template = skeleton(tmp_path, {"${{ 'LICENSE' if values.licensed else '' }}": "MIT", "README.md": "x"})
    ctx, lines = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": {}})
    FetchTemplate().run(ctx)
    assert files_under(tmp_path / "workspace") == {"README.md"}
    assert "its name renders to nothing" in lines[0]


def test_copy_without_render_keeps_names_and_contents(tmp_path):
    template = skeleton(tmp_path, {"raw/${{ values.name }}.txt": "${{ values.name }}", "${{ values.name }}.md": "x"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={
        "url": "./skeleton", "values": {"name": "svc"}, "copyWithoutRender": ["raw/**"]})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "raw" / "${{ values.name }}.txt").read_text() == "${{ values.name }}"
    assert (tmp_path / "workspace" / "svc.md").exists()


def test_both_copy_options_at_once_are_refused(tmp_path):
    template = skeleton(tmp_path, {"a": "b"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={
        "url": "./skeleton", "copyWithoutRender": ["a"], "copyWithoutTemplating": ["a"]})
    with pytest.raises(ActionError, match="not both"):
        FetchTemplate().run(ctx)


def test_template_file_extension_renders_only_those_files(tmp_path):
    template = skeleton(tmp_path, {"app.py.njk": "${{ values.name }}", "raw.txt": "${{ values.name }}"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={
        "url": "./skeleton", "values": {"name": "svc"}, "templateFileExtension": True})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "app.py").read_text() == "svc"
    assert (tmp_path / "workspace" / "raw.txt").read_text() == "${{ values.name }}"


def test_cookiecutter_compatibility_is_not_offered(tmp_path):
    template = skeleton(tmp_path, {"a": "b"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "cookiecutterCompat": True})
    with pytest.raises(ActionError, match="cookiecutterCompat is not supported"):
        FetchTemplate().run(ctx)


def test_binary_files_are_copied_as_they_are(tmp_path):
    template = skeleton(tmp_path, {})
    (template / "skeleton" / "logo.png").write_bytes(b"\x89PNG\x00${{ values.name }}")
    (template / "skeleton" / "latin1.txt").write_bytes("caf\xe9 ${{ values.name }}".encode("latin-1"))
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": {"name": "x"}})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "logo.png").read_bytes() == b"\x89PNG\x00${{ values.name }}"
    assert (tmp_path / "workspace" / "latin1.txt").read_bytes().startswith(b"caf\xe9")


def test_executable_files_stay_executable(tmp_path):
    template = skeleton(tmp_path, {"run.sh": "#!/bin/sh\necho ${{ values.name }}\n"})
    (template / "skeleton" / "run.sh").chmod(0o755)
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": {"name": "x"}})
    FetchTemplate().run(ctx)
    assert os.stat(tmp_path / "workspace" / "run.sh").st_mode & 0o111


def test_existing_files_are_kept_unless_replace_is_set(tmp_path):
    template = skeleton(tmp_path, {"README.md": "new"})
    (tmp_path / "workspace" / "README.md").write_text("old")
    ctx, lines = make_context(tmp_path / "workspace", template, input={"url": "./skeleton"})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "README.md").read_text() == "old"
    assert lines[-1] == "Kept the existing README.md (set replace: true to overwrite it)"
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "replace": True})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "README.md").read_text() == "new"


@pytest.mark.parametrize(("values", "why"), [
    ({"name": "../../escaped"}, "leaves its folder"),
    ({"name": "/etc/evil"}, "renders to an absolute path"),
    ({"name": "a\x00b"}, "contains a NUL byte"),
])
def test_rendered_names_cannot_escape_the_workspace(tmp_path, values, why):
    template = skeleton(tmp_path, {"x/${{ values.name }}.txt": "pwned"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": values})
    with pytest.raises(UnsafePathError, match=why):
        FetchTemplate().run(ctx)
    assert not any(p.name.endswith(".txt") for p in tmp_path.rglob("*") if "template" not in p.parts)


@pytest.mark.parametrize(("action_input", "why"), [
    ({"url": "../python-fastapi-service/skeleton"}, "leaves its folder"),
    ({"url": "/etc"}, "is absolute"),
    ({"url": "https://github.com/evil/skeleton"}, "is a URL"),
    ({"url": "file:///etc/passwd"}, "is a URL"),
    ({"url": "./skeleton", "targetPath": "../outside"}, "leaves its folder"),
    ({"url": "./skeleton", "targetPath": "/tmp/outside"}, "is absolute"),
])
def test_sources_and_targets_must_stay_in_their_folders(tmp_path, action_input, why):
    template = skeleton(tmp_path, {"a.txt": "a"})
    ctx, _ = make_context(tmp_path / "workspace", template, input=action_input)
    with pytest.raises(ActionError, match=why):
        FetchTemplate().run(ctx)


def test_a_skeleton_symlink_to_a_server_file_is_refused(tmp_path):
    template = skeleton(tmp_path, {"README.md": "x"})
    (template / "skeleton" / "leak").symlink_to("/etc/passwd")
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton"})
    with pytest.raises(UnsafePathError, match="leak is a symbolic link pointing outside"):
        FetchTemplate().run(ctx)
    assert not (tmp_path / "workspace" / "README.md").exists()


def test_a_skeleton_over_the_file_limit_is_refused(tmp_path):
    template = skeleton(tmp_path, {f"f{index}.txt": "x" for index in range(5)})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton"})
    with pytest.raises(ActionError, match="more than 3 files"):
        FetchTemplate(FileLimits(max_files=3)).run(ctx)


def test_a_template_without_a_folder_cannot_fetch(tmp_path):
    ctx, _ = make_context(tmp_path, None, input={"url": "./skeleton"})
    with pytest.raises(ActionError, match="not read from a folder on disk"):
        FetchTemplate().run(ctx)


def test_a_missing_source_is_named(tmp_path):
    ctx, _ = make_context(tmp_path, PYTHON_SERVICE, input={"url": "./skeletons"})
    with pytest.raises(ActionError, match="'skeletons' does not exist in the template's folder"):
        FetchPlain().run(ctx)


def test_a_hostile_skeleton_expression_names_the_file(tmp_path):
    template = skeleton(tmp_path, {"docs/evil.md": "${{ ''.__class__.__mro__ }}"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton"})
    with pytest.raises(ExpressionError, match="docs/evil.md: access to '__class__' is not allowed"):
        FetchTemplate().run(ctx)


def test_fetch_plain_copies_without_rendering(tmp_path):
    ctx, lines = make_context(tmp_path, WEBSITE, input={"url": "./skeleton/public", "targetPath": "static"})
    FetchPlain().run(ctx)
    assert files_under(tmp_path) == {"static/index.html", "static/styles.css"}
    assert "${{ values.site_title }}" in (tmp_path / "static" / "index.html").read_text()
    assert lines == ["Copying 2 files from ./skeleton/public to ./static"]


def test_fetch_plain_file_copies_one_file_to_its_target(tmp_path):
    ctx, _ = make_context(tmp_path, PYTHON_SERVICE, input={"url": "./skeleton/Dockerfile", "targetPath": "ops/Dockerfile"})
    FetchPlainFile().run(ctx)
    assert files_under(tmp_path) == {"ops/Dockerfile"}


def test_fetch_plain_file_refuses_a_folder_and_an_empty_target(tmp_path):
    ctx, _ = make_context(tmp_path, PYTHON_SERVICE, input={"url": "./skeleton", "targetPath": "x"})
    with pytest.raises(ActionError, match="is a folder"):
        FetchPlainFile().run(ctx)
    ctx, _ = make_context(tmp_path, PYTHON_SERVICE, input={"url": "./skeleton/Dockerfile", "targetPath": "."})
    with pytest.raises(ActionError, match="must name a file"):
        FetchPlainFile().run(ctx)


@pytest.mark.parametrize(("glob", "path", "matches"), [
    (".github/workflows/*", ".github/workflows/ci.yaml", True),
    (".github/workflows/*", ".github/workflows/nested/ci.yaml", False),
    (".github/**", ".github/workflows/nested/ci.yaml", True),
    ("**/*.png", "docs/img/logo.png", True),
    ("**/*.png", "logo.png", True),
    ("docs", "docs/index.md", False),
    ("docs/**", "docs/index.md", True),
    ("./README.md", "README.md", True),
    ("*.md", "docs/index.md", False),
    ("a?c", "abc", True),
])
def test_globs_match_paths_as_backstage_describes(glob, path, matches):
    assert bool(glob_pattern(glob).match(path)) is matches


def test_one_action_instance_renders_each_run_with_its_own_values(tmp_path):
    template = skeleton(tmp_path, {"${{ values.name }}.txt": "name=${{ values.name }}\n"})
    action = FetchTemplate()
    for name in ("first", "second"):
        ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton", "values": {"name": name}})
        action.run(ctx)
    assert (tmp_path / "workspace" / "first.txt").read_text() == "name=first\n"
    assert (tmp_path / "workspace" / "second.txt").read_text() == "name=second\n"


def test_trim_and_lstrip_blocks_are_passed_to_the_renderer(tmp_path):
    template = skeleton(tmp_path, {"list.txt": "  {% for x in values.items %}\n${{ x }}\n  {% endfor %}\n"})
    ctx, _ = make_context(tmp_path / "workspace", template, input={
        "url": "./skeleton", "values": {"items": ["a", "b"]}, "trimBlocks": True, "lstripBlocks": True})
    FetchTemplate().run(ctx)
    assert (tmp_path / "workspace" / "list.txt").read_text() == "a\nb\n"


def test_rendered_files_together_are_capped(tmp_path):
    template = skeleton(tmp_path, {f"f{index}.txt": "${{ 'x' * 400 }}" for index in range(3)})
    ctx, _ = make_context(tmp_path / "workspace", template, input={"url": "./skeleton"})
    with pytest.raises(ActionError, match="the rendered files take 1200 bytes, more than the 1000 allowed"):
        FetchTemplate(FileLimits(max_total_bytes=1000)).run(ctx)
    assert files_under(tmp_path / "workspace") == set()
