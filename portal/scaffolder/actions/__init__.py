"""Scaffolder actions: the contract, the built-in actions and the registry that holds them."""

from __future__ import annotations

from typing import Any

from portal.scaffolder.actions.catalog import CatalogWrite
from portal.scaffolder.actions.catalog_fetch import CatalogFetch
from portal.scaffolder.actions.catalog_register import CatalogRegister
from portal.scaffolder.actions.contract import (
    Action,
    ActionContext,
    ActionError,
    ActionInputError,
    ActionRegistry,
    ActionServices,
    ActionSpec,
    TaskCancelled,
    validate_action_input,
)
from portal.scaffolder.actions.debug import DebugLog, DebugWait
from portal.scaffolder.actions.elsewhere import ACTIONS_PROVIDED_ELSEWHERE
from portal.scaffolder.actions.fetch import FetchPlain, FetchPlainFile, FetchTemplate
from portal.scaffolder.actions.git_publish import PublishGit
from portal.scaffolder.actions.http_request import HttpRequest
from portal.scaffolder.actions.paths import FileLimits
from portal.scaffolder.actions.plugin_actions import plugin_actions


def builtin_actions(limits: FileLimits | None = None) -> list[Action]:
    """Fresh instances of the actions that run inside the scaffolder itself."""
    return [DebugLog(), DebugWait(), FetchPlain(limits), FetchPlainFile(limits), FetchTemplate(limits),
            CatalogWrite(), CatalogRegister(), CatalogFetch(), PublishGit(), HttpRequest()]


def default_registry(limits: FileLimits | None = None, *, settings: Any = None, plugins: Any = None) -> ActionRegistry:
    """The built-in actions, the actions of the installed plugins (`plugins`: a PluginRegistry), and specs
    of the plugin publishers no plugin provided; a new registry on every call.

    Actions read the settings they need from the run's ActionServices; `settings` is accepted so callers
    can pass what they have, and is not needed by any action today."""
    del settings
    builtin = builtin_actions(limits)
    entries: list[Action | ActionSpec] = [*builtin, *plugin_actions(plugins, frozenset(a.id for a in builtin))]
    provided = {entry.id for entry in entries}
    entries += [spec for spec in ACTIONS_PROVIDED_ELSEWHERE if spec.id not in provided]
    return ActionRegistry(entries)


__all__ = [
    "ACTIONS_PROVIDED_ELSEWHERE", "Action", "ActionContext", "ActionError", "ActionInputError", "ActionRegistry",
    "ActionServices", "ActionSpec", "TaskCancelled", "builtin_actions", "default_registry", "validate_action_input",
]
