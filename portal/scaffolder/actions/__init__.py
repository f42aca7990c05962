"""Scaffolder actions: the contract, the built-in actions and the registry that holds them."""

from __future__ import annotations

from portal.scaffolder.actions.catalog import CatalogWrite
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
from portal.scaffolder.actions.paths import FileLimits


def builtin_actions(limits: FileLimits | None = None) -> list[Action]:
    """Fresh instances of the actions that run inside the scaffolder itself."""
    return [DebugLog(), DebugWait(), FetchPlain(limits), FetchPlainFile(limits), FetchTemplate(limits),
            CatalogWrite()]


def default_registry(limits: FileLimits | None = None) -> ActionRegistry:
    """The built-in actions plus the specs of those provided elsewhere; a new registry on every call."""
    return ActionRegistry([*builtin_actions(limits), *ACTIONS_PROVIDED_ELSEWHERE])


__all__ = [
    "ACTIONS_PROVIDED_ELSEWHERE", "Action", "ActionContext", "ActionError", "ActionInputError", "ActionRegistry",
    "ActionServices", "ActionSpec", "TaskCancelled", "builtin_actions", "default_registry", "validate_action_input",
]
