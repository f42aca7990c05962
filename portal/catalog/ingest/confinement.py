"""Which files a location may read: its own folder for placeholders and Location targets, the configured
roots for `file` locations registered through the API.

A location's root is the folder it was registered as, or the folder of the file it was registered as.
Paths are compared after resolving `..` and symlinks, so a link inside the root that points outside it
is outside.
"""

from __future__ import annotations

import os.path
from typing import TYPE_CHECKING

from portal.catalog.ingest.problems import LocationError
from portal.catalog.ingest.sources import split_key

if TYPE_CHECKING:
    from portal.settings import Settings

ROOTS_SETTING = "FLOWPORT_FILE_LOCATION_ROOTS"


def real_path(path: str) -> str | None:
    """`path` with `..` and symlinks resolved, or None when it cannot name a file (a NUL byte)."""
    if "\x00" in path:
        return None
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return None


def is_inside(path: str, root: str) -> bool:
    """True when `path`, resolved, is `root` or lies under it (`root` must be resolved already)."""
    resolved = real_path(path)
    if resolved is None:
        return False
    return resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep)


def location_root(root_key: str) -> str | None:
    """The folder a location's placeholders and targets must stay in; None for a URL location."""
    type_, target = split_key(root_key)
    if type_ != "file":
        return None
    resolved = real_path(target)
    if resolved is None:
        return None
    return resolved if os.path.isdir(resolved) else os.path.dirname(resolved)


def file_location_roots(settings: Settings) -> list[str]:
    """The folders API-registered `file` locations must lie in: FLOWPORT_FILE_LOCATION_ROOTS, or when
    that is empty the folders of the configured catalog and template paths."""
    configured = settings.file_location_roots
    if not configured:
        configured = [p for p in (location_root(f"file:{os.path.abspath(os.path.expanduser(path))}")
                                  for path in [*settings.catalog_paths, *settings.template_paths]) if p]
    return [root for root in (real_path(os.path.abspath(os.path.expanduser(r))) for r in configured) if root]


def check_registrable_file(target: str, settings: Settings) -> None:
    """LocationError unless `target` lies inside one of the roots; the answer is the same whether or not
    the path exists, so the API cannot be used to probe the server's disk."""
    roots = file_location_roots(settings)
    if "\x00" not in target and any(is_inside(os.path.abspath(target), root) for root in roots):
        return
    raise LocationError(
        f"File location {target!r} is not inside a folder that file locations may be registered from; "
        f"an operator can add its folder to {ROOTS_SETTING}")
