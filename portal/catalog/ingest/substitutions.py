"""Backstage placeholders: `$text`, `$json` and `$yaml` values replaced by the file they point at."""

from __future__ import annotations

import json
import os.path
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import yaml

from portal.catalog.ingest.limits import DEFAULT_MAX_ALIAS_NODES, MAX_NESTING_DEPTH
from portal.catalog.ingest.sources import split_key
from portal.catalog.ingest.yaml_documents import load_single
from portal.catalog.ingest.yaml_limits import NestingTooDeep, checked_depth

PLACEHOLDERS = ("$text", "$json", "$yaml")
TextReader = Callable[[str, str], tuple[str | None, str | None]]


def resolve_target(base_key: str, target: str, type_: str | None = None,
                   root: str | None = None) -> tuple[str, str] | str:
    """`(type, absolute target)` of a reference made inside `base_key`, or why it is refused.

    Relative paths resolve against the containing file's folder, or the containing URL. A file must stay
    inside `root`, the location's folder (see confinement.py); symlinks are checked when it is read.
    """
    base_type, base_target = split_key(base_key)
    type_ = type_ or ("url" if urlsplit(target).scheme in ("http", "https") else base_type)
    if type_ == "url":
        if base_type == "url":
            return "url", urljoin(base_target, target)
        if urlsplit(target).scheme not in ("http", "https"):
            return f"{target!r} is not an absolute http(s) URL"
        return "url", target
    if type_ != "file":
        return f"unsupported location type {type_!r}; use file or url"
    if base_type == "url":
        # A descriptor fetched from the network must never make the portal read its own disk.
        return f"a file target ({target}) is not allowed inside a url location"
    if "\x00" in target:
        return "a path cannot contain a NUL byte"
    if target.startswith("~"):
        return f"{target}: '~' is not expanded; name the file relative to the descriptor"
    path = os.path.normpath(os.path.join(os.path.dirname(base_target), target))
    if root is not None and path != root and not path.startswith(root.rstrip(os.sep) + os.sep):
        return f"{target} is outside {outside_note(root)}"
    return "file", path


def outside_note(root: str) -> str:
    """The end of a refusal for a file outside a location's root."""
    return (f"this location's folder {root}: placeholders and Location targets may only name files "
            "inside the folder the location was registered from")


class SubstitutionError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def substitute(entity: dict, base_key: str, read_text: TextReader, root: str | None = None,
               max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES) -> tuple[dict, list[SubstitutionError]]:
    """The entity with placeholders replaced, and a problem for each one that could not be.

    `root`: the location's folder, which file references must stay in; `max_alias_nodes`: for `$yaml`."""
    errors: list[SubstitutionError] = []
    if not _has_placeholder(entity):
        return entity, errors
    context = _Context(base_key, read_text, root, max_alias_nodes, errors)
    return _walk(entity, "", context), errors


@dataclass
class _Context:
    base_key: str
    read_text: TextReader
    root: str | None
    max_alias_nodes: int
    errors: list[SubstitutionError]


def _has_placeholder(value: object) -> bool:
    # Cheap scan first: most descriptors have none, and the copy below would be wasted.
    if isinstance(value, dict):
        if len(value) == 1 and str(next(iter(value))).startswith("$"):
            return True
        return any(_has_placeholder(child) for child in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(child) for child in value)
    return False


def _walk(value: object, path: str, context: _Context) -> object:
    if isinstance(value, dict):
        if len(value) == 1 and str(next(iter(value))).startswith("$"):
            return _replace(value, path, context)
        return {key: _walk(child, f"{path}.{key}" if path else str(key), context) for key, child in value.items()}
    if isinstance(value, list):
        return [_walk(item, f"{path}[{i}]", context) for i, item in enumerate(value)]
    return value


def _replace(value: dict, path: str, context: _Context) -> object:
    errors = context.errors
    placeholder, reference = next(iter(value.items()))
    if placeholder not in PLACEHOLDERS:
        errors.append(SubstitutionError(
            path, f"unknown placeholder {placeholder!r}; supported are {', '.join(PLACEHOLDERS)}"))
        return value
    if not isinstance(reference, str) or not reference.strip():
        errors.append(SubstitutionError(path, f"{placeholder} needs a path or URL string"))
        return value
    resolved = resolve_target(context.base_key, reference.strip(), root=context.root)
    if isinstance(resolved, str):
        errors.append(SubstitutionError(path, f"{placeholder} {reference}: {resolved}"))
        return value
    text, error = context.read_text(*resolved)
    if text is None:
        errors.append(SubstitutionError(path, f"{placeholder} {reference} could not be read: {error}"))
        return value
    if placeholder == "$text":
        return text
    try:
        if placeholder == "$json":
            return checked_depth(json.loads(text))
        return load_single(text, context.max_alias_nodes)
    except (RecursionError, NestingTooDeep):
        errors.append(SubstitutionError(path, f"{placeholder} {reference} is nested deeper than "
                                        f"{MAX_NESTING_DEPTH} levels"))
    except (ValueError, yaml.YAMLError) as parse_error:
        errors.append(SubstitutionError(
            path, f"{placeholder} {reference} is not valid {placeholder[1:].upper()}: {parse_error}"))
    return value
