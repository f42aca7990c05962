"""Fetch a URL's text hop by hop: every redirect target is checked like the first URL, the body is read
up to a byte limit, and the whole fetch ends at a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from portal.net.addresses import Network, as_networks
from portal.net.urls import refuse_reason

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_BYTES_SETTING = "FLOWPORT_LOCATION_MAX_BYTES"
MAX_REDIRECTS_SETTING = "FLOWPORT_URL_MAX_REDIRECTS"
TIMEOUT_SETTING = "FLOWPORT_URL_TIMEOUT"


class FetchRefused(Exception):
    """The URL (or a hop) may not be fetched, or its answer broke a limit; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FetchRules:
    """Where a fetch may go and how much it may take."""

    allow_hosts: Sequence[str]
    allow_private: tuple[Network, ...] = ()
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    # Seconds for the whole fetch (every hop and the body); a server sending a byte now and then
    # would otherwise hold a thread for as long as it likes.
    deadline_seconds: float | None = None

    @classmethod
    def build(cls, allow_hosts: Sequence[str], allow_private: Iterable[str | Network] = (),
              **limits: object) -> FetchRules:
        return cls(list(allow_hosts), as_networks(allow_private), **limits)  # type: ignore[arg-type]


@dataclass
class Fetched:
    """The final answer: its URL after redirects, status, and text (None unless the status is 2xx)."""

    url: str
    status: int
    text: str | None


def fetch_text(client: httpx.Client, url: str, rules: FetchRules,
               clock: Callable[[], float] = time.monotonic) -> Fetched:
    """GET `url`, following redirects ourselves so each hop passes `refuse_reason` again.

    Raises FetchRefused for a refused hop, a redirect loop, too many redirects, a body over the limit
    or the deadline; httpx.HTTPError for network failures (the transport refuses private addresses).
    """
    deadline = clock() + rules.deadline_seconds if rules.deadline_seconds else None
    seen: list[str] = []
    current = url
    while True:
        refusal = refuse_reason(current, rules.allow_hosts, rules.allow_private)
        if refusal:
            raise FetchRefused(refusal if current == url else f"{seen[-1]} redirects to {current}, and {refusal}")
        if current in seen:
            raise FetchRefused(f"redirect loop: {seen[-1]} redirects back to {current}")
        if len(seen) > rules.max_redirects:
            raise FetchRefused(f"{url} redirects more than {rules.max_redirects} times; "
                               f"{MAX_REDIRECTS_SETTING} sets how many are followed")
        seen.append(current)
        with client.stream("GET", current, follow_redirects=False) as response:
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                current = str(response.url.join(location))
                continue
            if not 200 <= response.status_code < 300:
                return Fetched(current, response.status_code, None)
            body = _read_body(response, current, rules, deadline, clock)
        return Fetched(current, response.status_code, body.decode(response.charset_encoding or "utf-8", "replace"))


def _read_body(response: httpx.Response, url: str, rules: FetchRules, deadline: float | None,
               clock: Callable[[], float]) -> bytes:
    too_large = (f"{url} sends more than {rules.max_bytes} bytes; {MAX_BYTES_SETTING} sets how much "
                 "one file or URL may hold")
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > rules.max_bytes:
        raise FetchRefused(too_large)
    chunks: list[bytes] = []
    size = 0
    # Decoded bytes are counted, so a compressed body cannot inflate past the limit either.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > rules.max_bytes:
            raise FetchRefused(too_large)
        if deadline is not None and clock() > deadline:
            raise FetchRefused(f"{url} took longer than {rules.deadline_seconds:g} s to read; "
                               f"{TIMEOUT_SETTING} sets how long a URL may take")
        chunks.append(chunk)
    return b"".join(chunks)
