"""Backstage's `directoryContents`: a folder as `[{path, base64Content, executable}]`, and back."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from portal.scaffolder.actions.contract import ActionError
from portal.scaffolder.actions.paths import FileLimits, TreeFile, read_tree, safe_relative_path, write_tree


class DirectoryContentsError(ValueError):
    """`directoryContents` that cannot be written: the message names the entry and why."""


def serialize_directory(root: Path, limits: FileLimits | None = None) -> list[dict[str, Any]]:
    """Every file under `root` as `{path, base64Content, executable}`, sorted by path."""
    return [{"path": f.path.as_posix(), "base64Content": base64.b64encode(f.content).decode("ascii"),
             "executable": f.executable}
            for f in sorted(read_tree(root, limits or FileLimits(), "the workspace"), key=lambda f: f.path.as_posix())]


def deserialize_directory(root: Path, contents: Iterable[Mapping[str, Any]], limits: FileLimits | None = None) -> None:
    """Write `directoryContents` under `root`; every path must stay inside it, within the limits."""
    limits = limits or FileLimits()
    files, total = [], 0
    for index, entry in enumerate(contents):
        where = f"directoryContents[{index}]"
        if len(files) >= limits.max_files:
            raise DirectoryContentsError(f"directoryContents has more than {limits.max_files} files")
        tree_file = _tree_file(entry, where, limits)
        total += len(tree_file.content)
        if len(tree_file.content) > limits.max_file_bytes or total > limits.max_total_bytes:
            raise DirectoryContentsError(f"{where}: {tree_file.path} takes directoryContents over the size limit")
        files.append(tree_file)
    try:
        write_tree(root, files, "directoryContents")
    except (ActionError, OSError) as error:
        raise DirectoryContentsError(str(error)) from None


def _tree_file(entry: Mapping[str, Any], where: str, limits: FileLimits) -> TreeFile:
    if not isinstance(entry, Mapping):
        raise DirectoryContentsError(f"{where} must be an object with path and base64Content")
    try:
        path = safe_relative_path(entry.get("path"), f"{where}.path")
    except ActionError as error:
        raise DirectoryContentsError(str(error)) from None
    if not path.parts:
        raise DirectoryContentsError(f"{where}.path must name a file")
    encoded = entry.get("base64Content", "")
    if isinstance(encoded, str) and len(encoded) > limits.max_file_bytes * 4 // 3 + 4:
        raise DirectoryContentsError(f"{where}: {path} is larger than {limits.max_file_bytes} bytes")
    try:
        content = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
    except (binascii.Error, ValueError):
        content = None
    if content is None:
        raise DirectoryContentsError(f"{where}.base64Content of {path} is not valid base64")
    return TreeFile(PurePosixPath(path), content, executable=entry.get("executable") is True)
