"""Reading files and URLs: location keys, the host allow-list and the last good copy of each source."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

SUPPORTED_TYPES = ("file", "url")
ALLOW_HOSTS_SETTING = "FLOWPORT_URL_ALLOW_HOSTS"


def location_key(type_: str, target: str) -> str:
    """Backstage's `type:target` key of a file or URL."""
    return f"{type_}:{target}"


def split_key(key: str) -> tuple[str, str]:
    type_, _, target = key.partition(":")
    return type_, target


def display_name(key: str) -> str:
    """What people see for a source: the path of a file, the address of a URL."""
    return split_key(key)[1]


def host_allowed(url: str, allow_hosts: list[str]) -> bool:
    """`*` allows any host; otherwise an exact host or a `*.suffix` entry must match."""
    host = (urlsplit(url).hostname or "").lower()
    for entry in allow_hosts:
        entry = entry.strip().lower()
        if entry == "*" or entry == host:
            return True
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
    return False


def check_url(url: str, allow_hosts: list[str]) -> str | None:
    """Why a URL may not be read, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if not host_allowed(url, allow_hosts):
        return (
            f"host {parts.hostname!r} is not allowed; add it to {ALLOW_HOSTS_SETTING} "
            "(a host, '*.suffix' or '*')"
        )
    return None


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class CachedSource:
    """The last good copy of a source as stored in catalog_sources."""

    content: str | None
    etag: str | None
    fetched_at: datetime | None


@dataclass
class ReadOutcome:
    content: str | None
    error: str | None = None
    from_cache: bool = False
    # A missing file or a 404: what a Location's `presence: optional` forgives.
    not_found: bool = False


def read_file(path: str) -> ReadOutcome:
    try:
        return ReadOutcome(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ReadOutcome(None, "file not found", not_found=True)
    except IsADirectoryError:
        return ReadOutcome(None, "is a directory, not a file")
    except UnicodeDecodeError:
        return ReadOutcome(None, "is not UTF-8 text")
    except OSError as error:
        return ReadOutcome(None, f"cannot be read: {error.strerror or error}")


@dataclass
class SourceReader:
    """Reads file and URL sources, falling back to the last good copy when a read fails."""

    http: httpx.Client | None
    allow_hosts: list[str]
    cache: dict[str, CachedSource] = field(default_factory=dict)
    # Contents read successfully in this run, to store as the new last good copies.
    fresh: dict[str, str] = field(default_factory=dict)
    # Offline checking (`catalog validate` without a client): URLs are not fetched and not errors.
    offline: bool = False

    def read(self, key: str) -> ReadOutcome:
        type_, target = split_key(key)
        if type_ == "file":
            outcome = read_file(target)
        elif type_ == "url" and self.offline:
            return ReadOutcome(None, None)
        elif type_ == "url":
            outcome = self._read_url(target)
        else:
            return ReadOutcome(None, f"unsupported location type {type_!r}; use file or url")
        if outcome.content is not None:
            return self.accept(key, outcome.content)
        cached = self.cache.get(key)
        # A source that fails now (down, deleted, refused) keeps serving what it last said.
        if cached is not None and cached.content is not None:
            when = cached.fetched_at.isoformat(timespec="seconds") if cached.fetched_at else "earlier"
            return ReadOutcome(
                cached.content, f"{outcome.error}; kept the last good copy from {when}", from_cache=True
            )
        return outcome

    def accept(self, key: str, content: str) -> ReadOutcome:
        """A fresh read of `key` (by this reader or a parsing worker): its new last good copy."""
        self.fresh[key] = content
        return ReadOutcome(content)

    def read_text(self, type_: str, target: str) -> tuple[str | None, str | None]:
        """Plain read for `$text`-style substitutions: (content, error); no cache involved."""
        if type_ == "url" and self.offline:
            return f"(not fetched: {target})", None
        outcome = read_file(target) if type_ == "file" else self._read_url(target)
        return outcome.content, outcome.error

    def _read_url(self, url: str) -> ReadOutcome:
        refusal = check_url(url, self.allow_hosts)
        if refusal:
            return ReadOutcome(None, refusal)
        if self.http is None:
            return ReadOutcome(None, "URLs are not read here (no HTTP client)")
        try:
            response = self.http.get(url)
        except httpx.TimeoutException:
            return ReadOutcome(None, f"timed out reading {url}")
        except httpx.HTTPError as error:
            return ReadOutcome(None, f"could not read {url}: {error}")
        if response.status_code == 404:
            return ReadOutcome(None, f"HTTP 404 Not Found from {url}", not_found=True)
        if response.status_code >= 400:
            return ReadOutcome(None, f"HTTP {response.status_code} from {url}")
        return ReadOutcome(response.text)
