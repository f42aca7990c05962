"""The action contract: what an action declares, what it gets when it runs, and the registry of actions."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from jsonschema import Draft7Validator


class ActionError(RuntimeError):
    """An action could not do its work; the message says why, for people."""


class ActionInputError(ActionError):
    """A step's rendered input does not fit its action's input schema."""


class TaskCancelled(ActionError):
    """The run was cancelled while an action was working."""


@dataclass(frozen=True)
class ActionSpec:
    """What an action declares: its id, a description, and JSON Schemas of its input and output."""

    id: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    supports_dry_run: bool = False


@dataclass(frozen=True)
class ActionServices:
    """What actions with side effects reach beyond their workspace. The task runner passes one; dry runs
    and unit tests may pass none, and an action that needs it then fails with a clear ActionError.

    `engine` is the SQLAlchemy engine: an action opens its own short session for its own writes (the task
    scope owns no transaction across steps). `http` builds the outbound client (portal/net guarded)."""

    settings: Any
    engine: Any = None
    http: Callable[..., Any] | None = None
    plugins: Any = None  # portal.plugins.registry.PluginRegistry, for plugin actions and their connections


@dataclass
class ActionContext:
    """What a running action gets. `output(name, value)` sets `steps.<id>.output.<name>`."""

    input: dict[str, Any]
    workspace: Path
    log: Callable[[str], None]
    step_label: str = "step"
    template_path: Path | None = None
    user: dict[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, Any] = field(default_factory=dict)
    is_cancelled: Callable[[], bool] = lambda: False
    is_dry_run: bool = False
    sleep: Callable[[float], None] = time.sleep
    outputs: dict[str, Any] = field(default_factory=dict)
    services: ActionServices | None = None

    def output(self, name: str, value: Any) -> None:
        self.outputs[name] = value

    def check_cancelled(self) -> None:
        """Raise TaskCancelled when the run has been cancelled; long actions call this between pieces of work."""
        if self.is_cancelled():
            raise TaskCancelled(f"{self.step_label}: cancelled")


class Action(ABC):
    """Base class of an action that runs here. Subclasses set the class attributes and implement run()."""

    id: ClassVar[str]
    description: ClassVar[str]
    input_schema: ClassVar[dict[str, Any]]
    output_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    supports_dry_run: ClassVar[bool] = False

    @abstractmethod
    def run(self, ctx: ActionContext) -> None:
        """Do the step's work in `ctx.workspace`, reporting through `ctx.log` and `ctx.output`."""

    @classmethod
    def spec(cls) -> ActionSpec:
        return ActionSpec(cls.id, cls.description, cls.input_schema, cls.output_schema, cls.supports_dry_run)


class ActionRegistry:
    """Action id → action. Entries are runnable `Action`s or `ActionSpec`s of actions provided elsewhere."""

    def __init__(self, entries: Iterable[Action | ActionSpec] = ()) -> None:
        self._entries: dict[str, Action | ActionSpec] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: Action | ActionSpec) -> None:
        if entry.id in self._entries:
            raise ValueError(f"action {entry.id!r} is registered twice")
        self._entries[entry.id] = entry

    def knows(self, action_id: str) -> bool:
        return action_id in self._entries

    def ids(self) -> list[str]:
        return sorted(self._entries)

    def get(self, action_id: str) -> Action | ActionSpec:
        try:
            return self._entries[action_id]
        except KeyError:
            raise ActionError(f"unknown action {action_id!r}") from None

    def runnable(self, action_id: str) -> Action | None:
        """The action if it runs here, None if it is only a spec of an action provided elsewhere."""
        entry = self.get(action_id)
        return entry if isinstance(entry, Action) else None

    def list(self) -> list[dict[str, Any]]:
        """Backstage's `GET actions` answer: `[{id, description, schema: {input, output}}]`."""
        return [{"id": e.id, "description": e.description,
                 "schema": {"input": e.input_schema, "output": e.output_schema}}
                for e in (self._entries[i] for i in self.ids())]


def spec_of(entry: Action | ActionSpec) -> ActionSpec:
    return entry.spec() if isinstance(entry, Action) else entry


def validate_action_input(entry: Action | ActionSpec, rendered_input: Mapping[str, Any], step_label: str) -> None:
    """Raise ActionInputError naming the step and each field that does not fit the action's input schema."""
    validator = Draft7Validator(entry.input_schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(dict(rendered_input)), key=lambda e: list(e.absolute_path)):
        field_path = ".".join(str(part) for part in error.absolute_path)
        problems.append(f"input.{field_path}: {error.message}" if field_path else f"input: {error.message}")
    if problems:
        raise ActionInputError(f"{step_label} ({entry.id}): " + "; ".join(problems))
