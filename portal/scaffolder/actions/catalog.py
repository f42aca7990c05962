"""catalog:write: writes an entity as catalog-info.yaml into the workspace (Backstage's action of that name)."""

from __future__ import annotations

from pathlib import PurePosixPath

import yaml

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.paths import TreeFile, safe_relative_path, write_tree

DEFAULT_FILE_PATH = "catalog-info.yaml"


class CatalogWrite(Action):
    id = "catalog:write"
    description = "Writes the catalog descriptor of an entity into the workspace."
    input_schema = {
        "type": "object", "required": ["entity"], "additionalProperties": False,
        "properties": {
            "entity": {"type": "object", "title": "Entity to write", "required": ["apiVersion", "kind", "metadata"]},
            "filePath": {"type": "string", "title": "File to write, relative to the workspace",
                         "default": DEFAULT_FILE_PATH},
        },
    }
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        path = safe_relative_path(ctx.input.get("filePath", DEFAULT_FILE_PATH), f"{ctx.step_label}: input.filePath")
        if not path.parts:
            raise ActionError(f"{ctx.step_label}: input.filePath must name a file")
        text = yaml.safe_dump(ctx.input["entity"], sort_keys=False, allow_unicode=True)
        ctx.log(f"Writing {path}")
        write_tree(ctx.workspace, [TreeFile(PurePosixPath(path), text.encode("utf-8"))], ctx.step_label)
