"""debug:log and debug:wait, as Backstage's built-in actions of those names."""

from __future__ import annotations

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.paths import FileLimits, read_tree

MAX_WAIT_SECONDS = 10 * 60
WAIT_SLICE_SECONDS = 0.5


class DebugLog(Action):
    id = "debug:log"
    description = "Writes a message into the log, and optionally lists the files in the workspace."
    input_schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "message": {"type": "string", "title": "Message to write to the log"},
            "listWorkspace": {"title": "List the workspace's files (true or with-filenames) or their contents too",
                              "oneOf": [{"type": "boolean"}, {"enum": ["with-filenames", "with-contents"]}]},
        },
    }
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        if "message" in ctx.input:
            ctx.log(ctx.input["message"])
        listing = ctx.input.get("listWorkspace")
        if listing:
            self._list_workspace(ctx, with_contents=listing == "with-contents")

    @staticmethod
    def _list_workspace(ctx: ActionContext, *, with_contents: bool) -> None:
        files = read_tree(ctx.workspace, FileLimits(), f"{ctx.step_label}: the workspace")
        lines = []
        for tree_file in files:
            lines.append(f"- {tree_file.path}")
            if with_contents:
                lines.append(tree_file.content.decode("utf-8", errors="replace"))
        ctx.log("Workspace:\n" + "\n".join(lines) if lines else "The workspace is empty")


class DebugWait(Action):
    id = "debug:wait"
    description = "Waits for a while (at most 10 minutes), stopping early if the run is cancelled."
    input_schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "minutes": {"type": "number", "minimum": 0, "title": "Minutes to wait"},
            "seconds": {"type": "number", "minimum": 0, "title": "Seconds to wait"},
            "milliseconds": {"type": "number", "minimum": 0, "title": "Milliseconds to wait"},
        },
    }
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        remaining = (ctx.input.get("minutes", 0) * 60 + ctx.input.get("seconds", 0)
                     + ctx.input.get("milliseconds", 0) / 1000)
        if remaining > MAX_WAIT_SECONDS:
            raise ActionError(f"{ctx.step_label}: waiting {remaining:g} seconds is more than the "
                              f"{MAX_WAIT_SECONDS // 60} minutes allowed")
        ctx.log(f"Waiting {remaining:g} seconds")
        # Slept in slices so that a cancelled run stops within half a second.
        while remaining > 0:
            ctx.check_cancelled()
            piece = min(WAIT_SLICE_SECONDS, remaining)
            ctx.sleep(piece)
            remaining -= piece
        ctx.check_cancelled()
