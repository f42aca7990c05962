"""fetch:plain, fetch:plain:file and fetch:template: copy (and render) files from the template's folder.

Inputs as Backstage's built-in actions (https://backstage.io/docs/features/software-templates/builtin-actions);
only paths inside the template's own folder are fetched for now.
"""

from __future__ import annotations

import re
from dataclasses import replace as with_changes
from pathlib import Path, PurePosixPath
from typing import Any

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.paths import (
    FileLimits,
    TreeFile,
    UnsafePathError,
    read_tree,
    resolve_inside,
    safe_relative_path,
    write_tree,
)
from portal.scaffolder.expressions import ExpressionRenderer

DEFAULT_TEMPLATE_EXTENSION = ".njk"
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

URL_INPUT = {"type": "string", "title": "Fetch URL",
             "description": "Path of a folder or file relative to the template's folder, e.g. ./skeleton"}
TARGET_PATH_INPUT = {"type": "string", "title": "Target path",
                     "description": "Where to put the files, relative to the workspace"}
GLOBS_INPUT = {"type": "array", "items": {"type": "string"}}


def template_source(ctx: ActionContext, limits: FileLimits) -> tuple[Path, list[TreeFile]]:
    """The folder or file named by `input.url` inside the template's folder, and its files."""
    url = ctx.input["url"]
    if isinstance(url, str) and URL_SCHEME.match(url):
        raise ActionError(f"{ctx.step_label}: input.url {url!r} is a URL; only paths relative to the "
                          "template's folder (like ./skeleton) can be fetched for now")
    if ctx.template_path is None:
        raise ActionError(f"{ctx.step_label}: the template was not read from a folder on disk, so "
                          f"{url!r} cannot be fetched")
    source = resolve_inside(ctx.template_path, url, f"{ctx.step_label}: input.url")
    return source, read_tree(source, limits, f"{ctx.step_label}: input.url {url!r}")


def target_folder(ctx: ActionContext, key: str = "targetPath") -> PurePosixPath:
    return safe_relative_path(ctx.input.get(key, "./"), f"{ctx.step_label}: input.{key}")


def shown_folder(folder: PurePosixPath) -> str:
    return f"./{folder}" if folder.parts else "the workspace"


class FetchPlain(Action):
    id = "fetch:plain"
    description = "Copies a folder of the template into the workspace without rendering it."
    input_schema = {"type": "object", "required": ["url"], "additionalProperties": False,
                    "properties": {"url": URL_INPUT, "targetPath": TARGET_PATH_INPUT}}
    supports_dry_run = True

    def __init__(self, limits: FileLimits | None = None) -> None:
        self.limits = limits or FileLimits()

    def run(self, ctx: ActionContext) -> None:
        _, files = template_source(ctx, self.limits)
        target = target_folder(ctx)
        ctx.log(f"Copying {len(files)} files from {ctx.input['url']} to {shown_folder(target)}")
        write_tree(ctx.workspace, [with_changes(f, path=target / f.path) for f in files], ctx.step_label)


class FetchPlainFile(Action):
    id = "fetch:plain:file"
    description = "Copies one file of the template into the workspace without rendering it."
    input_schema = {"type": "object", "required": ["url", "targetPath"], "additionalProperties": False,
                    "properties": {"url": URL_INPUT, "targetPath": TARGET_PATH_INPUT}}
    supports_dry_run = True

    def __init__(self, limits: FileLimits | None = None) -> None:
        self.limits = limits or FileLimits()

    def run(self, ctx: ActionContext) -> None:
        source, files = template_source(ctx, self.limits)
        if not source.is_file():
            raise ActionError(f"{ctx.step_label}: input.url {ctx.input['url']!r} is a folder; fetch:plain:file copies one file")
        target = target_folder(ctx)
        if not target.parts:
            raise ActionError(f"{ctx.step_label}: input.targetPath must name a file in the workspace")
        ctx.log(f"Copying {ctx.input['url']} to ./{target}")
        write_tree(ctx.workspace, [with_changes(files[0], path=target)], ctx.step_label)


class FetchTemplate(Action):
    id = "fetch:template"
    description = ("Renders a folder of the template into the workspace: `${{ values.x }}` in file contents "
                   "and in file and folder names.")
    input_schema = {
        "type": "object", "required": ["url"], "additionalProperties": False,
        "properties": {
            "url": URL_INPUT, "targetPath": TARGET_PATH_INPUT,
            "values": {"type": "object", "title": "Values", "description": "Available as ${{ values.<name> }}"},
            "copyWithoutRender": {**GLOBS_INPUT, "description": "Globs copied as they are, names included (deprecated)"},
            "copyWithoutTemplating": {**GLOBS_INPUT, "description": "Globs whose contents are copied as they are"},
            "cookiecutterCompat": {"type": "boolean", "const": False,
                                   "description": "Cookiecutter's {{ cookiecutter.x }} syntax is not supported"},
            "templateFileExtension": {"type": ["boolean", "string"],
                                      "description": "Render only files with this extension (true: .njk), then drop it"},
            "replace": {"type": "boolean", "description": "Overwrite files that already exist in the workspace"},
            "trimBlocks": {"type": "boolean"}, "lstripBlocks": {"type": "boolean"},
        },
    }
    supports_dry_run = True

    def __init__(self, limits: FileLimits | None = None) -> None:
        self.limits = limits or FileLimits()
        self._renderers: dict[tuple[bool, bool], ExpressionRenderer] = {}

    def _renderer(self, trim_blocks: bool, lstrip_blocks: bool) -> ExpressionRenderer:
        # Kept with the action, so a skeleton's compiled files are reused by the next run of its template.
        key = (trim_blocks, lstrip_blocks)
        if key not in self._renderers:
            self._renderers[key] = ExpressionRenderer(trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks)
        return self._renderers[key]

    def run(self, ctx: ActionContext) -> None:
        if ctx.input.get("copyWithoutRender") and ctx.input.get("copyWithoutTemplating"):
            raise ActionError(f"{ctx.step_label}: give copyWithoutRender or copyWithoutTemplating, not both")
        _, files = template_source(ctx, self.limits)
        renderer = self._renderer(bool(ctx.input.get("trimBlocks")), bool(ctx.input.get("lstripBlocks")))
        plan = SkeletonPlan(ctx.input)
        rendered = [f for f in (self._render_file(ctx, renderer, plan, f) for f in files) if f is not None]
        rendered_bytes = sum(len(f.content) for f in rendered)
        if rendered_bytes > self.limits.max_total_bytes:
            # Each file's rendering is capped; this caps what many small files can add up to.
            raise ActionError(f"{ctx.step_label}: the rendered files take {rendered_bytes} bytes, more than the "
                              f"{self.limits.max_total_bytes} allowed")
        target = target_folder(ctx)
        ctx.log(f"Rendering {len(rendered)} files from {ctx.input['url']} into {shown_folder(target)}")
        placed = [with_changes(f, path=target / f.path) for f in rendered]
        for skipped in write_tree(ctx.workspace, placed, ctx.step_label, replace=bool(ctx.input.get("replace"))):
            ctx.log(f"Kept the existing {skipped} (set replace: true to overwrite it)")

    def _render_file(self, ctx: ActionContext, renderer: ExpressionRenderer, plan: SkeletonPlan,
                     skeleton_file: TreeFile) -> TreeFile | None:
        ctx.check_cancelled()
        context = {"values": ctx.input.get("values") or {}}
        path_text = skeleton_file.path.as_posix()
        render_content = plan.renders_content(path_text)
        if plan.extension and render_content:
            path_text = path_text.removesuffix(plan.extension)
        if plan.renders_path(path_text):
            path_text = self._render_path(ctx, renderer, context, path_text)
            if path_text is None:
                ctx.log(f"Skipping {skeleton_file.path}: its name renders to nothing")
                return None
        path = safe_relative_path(path_text, f"{ctx.step_label}: the rendered name of {skeleton_file.path}")
        content = skeleton_file.content
        if render_content and _is_text(content):
            content = renderer.render_text(content.decode("utf-8"), context, secrets=ctx.secrets,
                                           where=f"{ctx.step_label}: {skeleton_file.path}").encode("utf-8")
        return TreeFile(path, content, skeleton_file.executable)

    @staticmethod
    def _render_path(ctx: ActionContext, renderer: ExpressionRenderer, context: dict[str, Any], path_text: str) -> str | None:
        """Each folder and file name rendered on its own; None when one renders to nothing (Backstage skips those)."""
        rendered = []
        for part in path_text.split("/"):
            name = renderer.render_text(part, context, where=f"{ctx.step_label}: file name {path_text!r}",
                                        secrets=ctx.secrets)
            if not name.strip():
                return None
            if name.startswith("/"):
                raise UnsafePathError(f"{ctx.step_label}: the name of {path_text!r} renders to an absolute path {name!r}")
            rendered.append(name)
        return "/".join(rendered)


class SkeletonPlan:
    """Which skeleton files get their names and contents rendered, from fetch:template's input."""

    def __init__(self, action_input: dict[str, Any]) -> None:
        if action_input.get("cookiecutterCompat"):
            raise ActionError("fetch:template: cookiecutterCompat is not supported; use ${{ values.x }}")
        extension = action_input.get("templateFileExtension")
        self.extension = DEFAULT_TEMPLATE_EXTENSION if extension is True else (extension or None)
        self.verbatim = [glob_pattern(g) for g in action_input.get("copyWithoutRender") or []]
        self.untemplated = [glob_pattern(g) for g in action_input.get("copyWithoutTemplating") or []]

    def renders_content(self, path: str) -> bool:
        if self.extension and not path.endswith(self.extension):
            return False
        return not _matches_any(self.verbatim + self.untemplated, path)

    def renders_path(self, path: str) -> bool:
        return not _matches_any(self.verbatim, path)


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A glob as a regular expression over '/'-separated paths: `*` within a name, `**` across folders."""
    text = glob.removeprefix("./")
    pattern, index = "", 0
    while index < len(text):
        if text.startswith("**/", index):
            pattern, index = pattern + "(?:.*/)?", index + 3
        elif text.startswith("**", index):
            pattern, index = pattern + ".*", index + 2
        elif text[index] == "*":
            pattern, index = pattern + "[^/]*", index + 1
        elif text[index] == "?":
            pattern, index = pattern + "[^/]", index + 1
        else:
            pattern, index = pattern + re.escape(text[index]), index + 1
    # Matched against each file's path, as Backstage matches its globs against the skeleton's entries.
    return re.compile(f"^{pattern}$")


def _matches_any(patterns: list[re.Pattern[str]], path: str) -> bool:
    return any(pattern.match(path) for pattern in patterns)


def _is_text(content: bytes) -> bool:
    """Binary files (a NUL byte, or not UTF-8) are copied as they are, as Backstage does."""
    if b"\x00" in content[:8192]:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
