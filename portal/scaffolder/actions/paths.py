"""Sandboxed paths and file trees: nothing an action reads or writes may leave its folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from portal.scaffolder.actions.contract import ActionError

WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePathError(ActionError):
    """A path given to an action is absolute, escapes its folder, or is not a usable name."""


@dataclass(frozen=True)
class FileLimits:
    """How many files and bytes one action may read or write."""

    max_files: int = 2_000
    max_file_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class TreeFile:
    """A file of a tree: its path relative to the tree's root, its bytes and whether it is executable."""

    path: PurePosixPath
    content: bytes
    executable: bool = False


def safe_relative_path(raw: object, what: str) -> PurePosixPath:
    """A relative path that stays inside its folder (`a/../b` is `b`); '' and '.' are the folder itself."""
    if not isinstance(raw, str):
        raise UnsafePathError(f"{what} must be a string, got {type(raw).__name__}")
    if "\x00" in raw:
        raise UnsafePathError(f"{what} {raw!r} contains a NUL byte")
    if "\\" in raw:
        raise UnsafePathError(f"{what} {raw!r} contains a backslash; use '/' between folders")
    if raw.startswith("/") or WINDOWS_DRIVE.match(raw):
        raise UnsafePathError(f"{what} {raw!r} is absolute; give a path relative to the folder")
    parts: list[str] = []
    for part in raw.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafePathError(f"{what} {raw!r} leaves its folder with '..'")
            parts.pop()
        else:
            parts.append(part)
    return PurePosixPath(*parts)


def resolve_inside(root: Path, raw: object, what: str) -> Path:
    """`root / raw`, refused when `raw` is unsafe or an existing symlink on the way leads out of `root`."""
    target = root.joinpath(*safe_relative_path(raw, what).parts)
    real_root = root.resolve()
    if not target.resolve().is_relative_to(real_root):
        raise UnsafePathError(f"{what} {raw!r} leads outside its folder through a symbolic link")
    return target


def read_tree(source: Path, limits: FileLimits, what: str) -> list[TreeFile]:
    """Every file under `source` (or `source` itself if it is a file), within the limits.

    A symbolic link is read as the file it points to when that file is inside `source`'s folder and
    refused otherwise, so a skeleton cannot copy files from elsewhere on the server.
    """
    if source.is_file():
        return [_read_file(source, source.parent, PurePosixPath(source.name), limits, what)]
    if not source.is_dir():
        raise ActionError(f"{what}: {source.name!r} does not exist in the template's folder")
    files: list[TreeFile] = []
    total = 0
    for folder, subfolders, names in os.walk(source):
        subfolders.sort()
        for subfolder in subfolders:
            if Path(folder, subfolder).is_symlink():
                raise UnsafePathError(f"{what}: {_relative(source, Path(folder, subfolder))} is a symbolic link "
                                      "to a folder; skeletons may not contain those")
        for name in sorted(names):
            relative = PurePosixPath(Path(folder, name).relative_to(source).as_posix())
            tree_file = _read_file(Path(folder, name), source, relative, limits, what)
            files.append(tree_file)
            total += len(tree_file.content)
            _check_totals(files, total, limits, what)
    return files


def _read_file(path: Path, root: Path, relative: PurePosixPath, limits: FileLimits, what: str) -> TreeFile:
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        raise UnsafePathError(f"{what}: {relative} is a symbolic link pointing outside the template's folder")
    if not path.exists():
        raise UnsafePathError(f"{what}: {relative} is a broken symbolic link")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ActionError(f"{what}: {relative} is {size} bytes, more than the {limits.max_file_bytes} allowed")
    return TreeFile(relative, path.read_bytes(), executable=bool(path.stat().st_mode & 0o111))


def _check_totals(files: list[TreeFile], total: int, limits: FileLimits, what: str) -> None:
    if len(files) > limits.max_files:
        raise ActionError(f"{what}: more than {limits.max_files} files")
    if total > limits.max_total_bytes:
        raise ActionError(f"{what}: more than {limits.max_total_bytes} bytes in all")


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def write_tree(root: Path, files: list[TreeFile], what: str, *, replace: bool = True) -> list[PurePosixPath]:
    """Write files under `root` (each path checked again); return the paths skipped because they existed."""
    skipped = []
    for tree_file in files:
        target = resolve_inside(root, tree_file.path.as_posix(), what)
        if target.exists() and not replace:
            skipped.append(tree_file.path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()  # never write through a link, even one pointing inside
        target.write_bytes(tree_file.content)
        target.chmod(0o755 if tree_file.executable else 0o644)
    return skipped
