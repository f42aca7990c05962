"""Reading a tool's payload without trusting its shape: a missing or mistyped key is a MalformedPayload
whose message names the key, so the delivery fails with a reason people can act on (never a KeyError)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class MalformedPayload(ValueError):
    """A payload that lacks (or mistypes) what its event must carry."""


def require_object(parent: object, key: str, where: str) -> dict:
    """parent[key] as a JSON object; `where` names the parent in the message (e.g. `merge request hook`)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        found = "missing" if not isinstance(parent, dict) or key not in parent else f"{_kind(value)}, not an object"
        raise MalformedPayload(f"{where}: `{key}` is {found}")
    return value


def require_id(parent: dict, key: str, where: str) -> str | int:
    """parent[key] as an identifier: a non-empty string or an integer (not a boolean)."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        found = "missing" if value is None else f"{_kind(value)}, not an id"
        raise MalformedPayload(f"{where}: `{key}` is {found}")
    return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


# What reading a payload of an unexpected shape raises in plain Python code.
_UNFORESEEN = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError, RecursionError)


def readable_reason(error: BaseException) -> str:
    """What went wrong reading a payload, for people: a missing key named as such."""
    if isinstance(error, MalformedPayload):
        return str(error)
    if isinstance(error, KeyError):
        return f"lacks the key {error.args[0]!r}"
    return f"has a value of an unexpected type or shape ({error})"


def readable_errors(tool: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn what a normalizer did not foresee (a missing key, a list where an object belongs) into a
    MalformedPayload naming the key, instead of a bare KeyError or TypeError."""
    def decorate(normalize: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(normalize)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return normalize(*args, **kwargs)
            except MalformedPayload:
                raise
            except _UNFORESEEN as error:
                raise MalformedPayload(f"{tool} payload {readable_reason(error)}") from error
        return guarded
    return decorate
