"""Reading files and URLs: location keys, the host allow-list and the last good copy of each source."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
import os
import stat

import httpx

from portal.catalog.ingest.limits import DEFAULT_MAX_BYTES, MAX_BYTES_SETTING, ReadLimits
from portal.net import FetchRefused, fetch_text, refuse_reason

SUPPORTED_TYPES = ("file", "url")


def location_key(type_: str, target: str) -> str:
    """Backstage's `type:target` key of a file or URL."""
    return f"{type_}:{target}"


def split_key(key: str) -> tuple[str, str]:
    type_, _, target = key.partition(":")
    return type_, target


def display_name(key: str) -> str:
    """What people see for a source: the path of a file, the address of a URL."""
    return split_key(key)[1]


def check_url(url: str, allow_hosts: list[str], allow_private: tuple[str, ...] = ()) -> str | None:
    """Why a URL may not be read, or None when it may (see portal/net)."""
    return refuse_reason(url, allow_hosts, allow_private)


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# PostgreSQL's text cannot hold a NUL character, and no descriptor or definition needs one.
NUL_TEXT = "holds a NUL character (\\0), so it is not a text file"


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


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadOutcome:
    """A regular file's UTF-8 text, refused past `max_bytes` (checked before and while reading)."""
    if "\x00" in path:
        return ReadOutcome(None, "cannot be read: the path contains a NUL byte")
    try:
        # Non-blocking, so a FIFO cannot hang the open; fstat then refuses anything but a regular file.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return ReadOutcome(None, "file not found", not_found=True)
    except OSError as error:
        return ReadOutcome(None, f"cannot be read: {error.strerror or error}")
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            return ReadOutcome(None, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            return ReadOutcome(None, "is not a regular file")
        # /proc files report size 0: the read itself is capped too.
        data = b"" if info.st_size > max_bytes else handle.read(max_bytes + 1)
    if info.st_size > max_bytes or len(data) > max_bytes:
        return ReadOutcome(None, f"holds more than {max_bytes} bytes; {MAX_BYTES_SETTING} sets how much "
                                 "one file or URL may hold")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ReadOutcome(None, "is not UTF-8 text")
    if "\x00" in text:
        return ReadOutcome(None, NUL_TEXT)
    # As text-mode reading did: line ends become \n.
    return ReadOutcome(text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text)


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
    limits: ReadLimits = field(default_factory=ReadLimits)

    def read(self, key: str) -> ReadOutcome:
        type_, target = split_key(key)
        if type_ == "file":
            outcome = read_file(target, self.limits.max_bytes)
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
        outcome = read_file(target, self.limits.max_bytes) if type_ == "file" else self._read_url(target)
        return outcome.content, outcome.error

    def _read_url(self, url: str) -> ReadOutcome:
        if self.http is None:
            refusal = check_url(url, self.allow_hosts, self.limits.allow_private)
            return ReadOutcome(None, refusal or "URLs are not read here (no HTTP client)")
        try:
            fetched = fetch_text(self.http, url, self.limits.fetch_rules(self.allow_hosts))
        except FetchRefused as refused:
            return ReadOutcome(None, refused.message)
        except httpx.TimeoutException:
            return ReadOutcome(None, f"timed out reading {url}")
        except httpx.HTTPError as error:
            return ReadOutcome(None, f"could not read {url}: {error}")
        if fetched.status == 404:
            return ReadOutcome(None, f"HTTP 404 Not Found from {fetched.url}", not_found=True)
        if fetched.text is None:
            return ReadOutcome(None, f"HTTP {fetched.status} from {fetched.url}")
        if "\x00" in fetched.text:
            return ReadOutcome(None, f"{fetched.url} {NUL_TEXT}")
        return ReadOutcome(fetched.text)
