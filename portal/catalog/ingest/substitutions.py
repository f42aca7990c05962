"""Backstage placeholders: `$text`, `$json` and `$yaml` values replaced by the file they point at."""

from __future__ import annotations

import json
import os.path
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import yaml

from portal.catalog.ingest.sources import split_key
from portal.catalog.ingest.yaml_documents import DescriptorLoader

PLACEHOLDERS = ("$text", "$json", "$yaml")
TextReader = Callable[[str, str], tuple[str | None, str | None]]


def resolve_target(base_key: str, target: str, type_: str | None = None) -> tuple[str, str] | str:
    """`(type, absolute target)` of a reference made inside `base_key`, or why it is refused.

    Relative paths resolve against the containing file's folder, or the containing URL.
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
    base_dir = os.path.dirname(base_target)
    return "file", os.path.normpath(os.path.join(base_dir, os.path.expanduser(target)))


class SubstitutionError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def substitute(entity: dict, base_key: str, read_text: TextReader) -> tuple[dict, list[SubstitutionError]]:
    """The entity with placeholders replaced, and a problem for each one that could not be."""
    errors: list[SubstitutionError] = []
    if not _has_placeholder(entity):
        return entity, errors
    return _walk(entity, "", base_key, read_text, errors), errors


def _has_placeholder(value: object) -> bool:
    # Cheap scan first: most descriptors have none, and the copy below would be wasted.
    if isinstance(value, dict):
        if len(value) == 1 and str(next(iter(value))).startswith("$"):
            return True
        return any(_has_placeholder(child) for child in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(child) for child in value)
    return False


def _walk(value: object, path: str, base_key: str, read_text: TextReader, errors: list) -> object:
    if isinstance(value, dict):
        if len(value) == 1 and str(next(iter(value))).startswith("$"):
            return _replace(value, path, base_key, read_text, errors)
        return {
            key: _walk(child, f"{path}.{key}" if path else str(key), base_key, read_text, errors)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, f"{path}[{i}]", base_key, read_text, errors) for i, item in enumerate(value)]
    return value


def _replace(value: dict, path: str, base_key: str, read_text: TextReader, errors: list) -> object:
    placeholder, reference = next(iter(value.items()))
    if placeholder not in PLACEHOLDERS:
        errors.append(SubstitutionError(
            path, f"unknown placeholder {placeholder!r}; supported are {', '.join(PLACEHOLDERS)}"))
        return value
    if not isinstance(reference, str) or not reference.strip():
        errors.append(SubstitutionError(path, f"{placeholder} needs a path or URL string"))
        return value
    resolved = resolve_target(base_key, reference.strip())
    if isinstance(resolved, str):
        errors.append(SubstitutionError(path, f"{placeholder} {reference}: {resolved}"))
        return value
    text, error = read_text(*resolved)
    if text is None:
        errors.append(SubstitutionError(path, f"{placeholder} {reference} could not be read: {error}"))
        return value
    if placeholder == "$text":
        return text
    try:
        if placeholder == "$json":
            return json.loads(text)
        return yaml.load(text, Loader=DescriptorLoader)  # noqa: S506 - DescriptorLoader is a safe loader
    except (ValueError, yaml.YAMLError) as parse_error:
        errors.append(SubstitutionError(
            path, f"{placeholder} {reference} is not valid {placeholder[1:].upper()}: {parse_error}"))
        return value
