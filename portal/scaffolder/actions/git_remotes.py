"""Where publish:git may push: https URLs on FLOWPORT_GIT_ALLOW_HOSTS, and local paths inside
FLOWPORT_GIT_LOCAL_ROOTS (default `<data dir>/git`). Everything else (ssh, git://, ext::, options) is refused.

git connects by itself, not through portal/net, so the host is checked here: allow-listed, not a literal
private address, and every address it resolves to now must be public (or in an allowed network).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from portal.net import address_refusal, as_networks, refuse_reason
from portal.scaffolder.actions.contract import ActionError
from portal.scaffolder.actions.paths import safe_relative_path

ALLOW_HOSTS_SETTING = "FLOWPORT_GIT_ALLOW_HOSTS"
LOCAL_ROOTS_SETTING = "FLOWPORT_GIT_LOCAL_ROOTS"
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
REMOTE_HELPER = re.compile(r"^[A-Za-z0-9+.-]*::")  # git's <transport>::<address>, e.g. ext::
SCP_LIKE = re.compile(r"^[^/]*:")  # user@host:path, git's ssh shorthand
MAX_REMOTE_LENGTH = 2000
Resolver = Callable[[str], list[str]]


class RemoteRefused(ActionError):
    """A git remote that may not be pushed to; the message says why and which setting allows more."""


@dataclass(frozen=True)
class GitRemote:
    """A checked remote: `url` is what git is given; `local_path` is the bare repository for local remotes."""

    url: str
    local_path: Path | None = None
    root: Path | None = None
    # `host:port:addr,addr` for git's http.curloptResolve: git connects to the addresses we checked, so
    # a name that answers differently the second time (DNS rebinding) cannot send the push elsewhere.
    pinned: str | None = None

    @property
    def is_local(self) -> bool:
        return self.local_path is not None


def local_roots(settings: Any) -> list[Path]:
    """The folders local remotes may live in, resolved; `<data dir>/git` when none is configured."""
    configured = settings.git_local_roots or [str(Path(settings.data_dir) / "git")]
    return [Path(os.path.realpath(os.path.expanduser(root))) for root in configured]


def checkout_area(settings: Any) -> Path:
    """Where publish:git keeps a checkout of each local repository for the catalog to read."""
    return Path(os.path.realpath(Path(settings.data_dir) / "git-checkouts"))


def system_resolver(host: str) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)]


def check_remote(raw: object, settings: Any, what: str, resolver: Resolver | None = None) -> GitRemote:
    """The remote `raw` stands for, or RemoteRefused saying why it may not be used."""
    if not isinstance(raw, str) or not raw.strip():
        raise RemoteRefused(f"{what} must be a non-empty string")
    if len(raw) > MAX_REMOTE_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise RemoteRefused(f"{what} is longer than {MAX_REMOTE_LENGTH} characters or holds control characters")
    if raw.startswith("-"):
        raise RemoteRefused(f"{what} {raw!r} starts with '-'; git would read it as an option")
    if REMOTE_HELPER.match(raw):
        raise RemoteRefused(f"{what} {raw!r} names a git remote helper (<transport>::<address>); "
                            "only https URLs and local paths are allowed")
    scheme = SCHEME.match(raw)
    if scheme is None:
        if SCP_LIKE.match(raw):
            raise RemoteRefused(f"{what} {raw!r} is an ssh address; only https URLs and local paths inside "
                                f"{LOCAL_ROOTS_SETTING} are allowed")
        return _local_remote(raw, settings, what)
    name = scheme.group(1).lower()
    if name == "file":
        parts = urlsplit(raw)
        if parts.netloc not in ("", "localhost"):
            raise RemoteRefused(f"{what} {raw!r} names a file on another host")
        return _local_remote(unquote(parts.path), settings, what)
    if name != "https":
        raise RemoteRefused(f"{what} {raw!r} uses {name}://; only https URLs and local paths inside "
                            f"{LOCAL_ROOTS_SETTING} are allowed")
    return _https_remote(raw, settings, what, resolver or system_resolver)


def _https_remote(raw: str, settings: Any, what: str, resolver: Resolver) -> GitRemote:
    parts = urlsplit(raw)
    if "@" in parts.netloc:
        raise RemoteRefused(f"{what} must not carry a user name or token; credentials come from the connection")
    refusal = refuse_reason(raw, settings.git_allow_hosts, settings.url_allow_private_networks,
                            allow_hosts_setting=ALLOW_HOSTS_SETTING)
    if refusal:
        raise RemoteRefused(f"{what}: {refusal}")
    host = (parts.hostname or "").lower()
    try:
        addresses = resolver(host)
    except (OSError, UnicodeError):
        addresses = []  # git cannot connect either, unless the operator's git config rewrites the URL
    networks = as_networks(settings.url_allow_private_networks)
    checked = []
    for text in dict.fromkeys(addresses):
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = address_refusal(address, networks)
        if reason:
            raise RemoteRefused(f"{what}: {host} resolves to {reason}; add its network to "
                                "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS if git must reach it")
        checked.append(f"[{address}]" if address.version == 6 else str(address))
    port = parts.port or 443
    return GitRemote(raw, pinned=f"{host}:{port}:{','.join(checked)}" if checked else None)


def _local_remote(raw: str, settings: Any, what: str) -> GitRemote:
    if "\x00" in raw:
        raise RemoteRefused(f"{what} contains a NUL byte")
    roots = local_roots(settings)
    if os.path.isabs(raw):
        if ".." in Path(raw).parts:
            raise RemoteRefused(f"{what} {raw!r} contains '..'; give the repository's own path")
        target = Path(os.path.realpath(raw))
    else:
        try:
            relative = safe_relative_path(raw, what)
        except ActionError as error:
            raise RemoteRefused(str(error)) from None
        if raw.split("/")[0] == ".." or ".." in raw.split("/"):
            raise RemoteRefused(f"{what} {raw!r} contains '..'; give a path inside {LOCAL_ROOTS_SETTING}")
        target = Path(os.path.realpath(roots[0].joinpath(*relative.parts)))
    for root in roots:
        if target != root and target.is_relative_to(root):
            return GitRemote(str(target), local_path=target, root=root)
    raise RemoteRefused(f"{what} {raw!r} is not inside a folder local repositories may live in; an operator can "
                        f"add one to {LOCAL_ROOTS_SETTING}")
