"""What a folder location stands for.

A folder that holds an `all.yaml` is read through that file alone (it is a Location listing the
rest, so the author decides what loads). Any other folder stands for every `*.yaml`/`*.yml` found
under it recursively, skipping hidden folders and template `skeleton/` folders, whose files are
Jinja sources and not descriptors. Folders are read again on every refresh, so new files load.
"""

from __future__ import annotations

from pathlib import Path

INDEX_FILE = "all.yaml"
_SKIPPED_FOLDERS = {"skeleton", "node_modules"}


def descriptor_files(path: str | Path) -> list[Path]:
    """The files a configured path stands for (see the module docstring)."""
    path = Path(path).expanduser().resolve()
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    if (path / INDEX_FILE).is_file():
        return [path / INDEX_FILE]
    found = []
    for candidate in sorted(path.rglob("*")):
        relative = candidate.relative_to(path).parts[:-1]
        if any(part.startswith(".") or part in _SKIPPED_FOLDERS for part in relative):
            continue
        if candidate.is_file() and candidate.suffix in (".yaml", ".yml"):
            found.append(candidate)
    return found
