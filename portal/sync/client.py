"""The HTTP client every pull sync uses: conditional requests from stored validators, rate limits
read from the tool's headers, bounded retries with jittered backoff, and a per-run request budget."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from portal.logging_setup import get_logger
from portal.net import AddressRefused
from portal.retry import jittered_backoff

log = get_logger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RATE_WAIT = 900.0


class SyncStopped(Exception):
    """The run ends cleanly here: committed pages stay and the next run resumes from their cursors."""


class BudgetExhausted(SyncStopped):
    """The connection's request budget for this run is spent."""


class RateLimitTooLong(SyncStopped):
    """The tool asks to wait longer than a run is willing to; the next run picks it up."""


class SyncHttpError(Exception):
    """A request that failed for good: a 4xx, or a 5xx/timeout after every retry."""

    def __init__(self, url: str, status: int | None, reason: str) -> None:
        where = f"HTTP {status}" if status else "no response"
        super().__init__(f"{where} from {url}: {reason}")
        self.url, self.status, self.reason = url, status, reason


class TargetsUnavailable(Exception):
    """Some repositories or projects could not be read (gone, or no access); the others were synced."""


# Statuses that concern one repository or project, not the whole connection (unlike 401).
TARGET_UNAVAILABLE_STATUSES = frozenset({403, 404, 410})


@dataclass
class SyncResponse:
    """A response as a sync sees it; `not_modified` means a 304 (nothing changed, nothing to do)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    links: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def json(self) -> Any:
        return json.loads(self.content) if self.content else None


@dataclass
class SyncStats:
    """What one run cost: requests sent (304s included), 304s, retries and seconds spent waiting."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    waited_seconds: float = 0.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from now: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _rate_limit(headers: httpx.Headers) -> tuple[int | None, float | None]:
    """Remaining requests and reset (epoch, or seconds for tools that send a delta) from either
    GitHub's `x-ratelimit-*` or GitLab's / IETF draft `ratelimit-*` headers."""
    remaining = headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining")
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    try:
        return (int(remaining) if remaining is not None else None,
                float(reset) if reset is not None else None)
    except ValueError:
        return None, None


class SyncClient:
    """Wraps an httpx.AsyncClient for one connection's run; sleeping and time are injectable."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        budget: int | None = None,
        validators: Mapping[str, list] | None = None,
        conditional: bool = True,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_rate_wait: float = DEFAULT_MAX_RATE_WAIT,
        base_backoff: float = 1.0,
    ) -> None:
        self.http = http
        self.headers: dict[str, str] = {}
        self.budget = budget
        self.conditional = conditional
        self.stats = SyncStats()
        self._validators = dict(validators or {})
        # Validators of responses not yet reflected in committed records; see take_validators().
        self._pending: dict[str, list] = {}
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()
        self.max_attempts, self.max_rate_wait, self.base_backoff = max_attempts, max_rate_wait, base_backoff
        self._charged = 0
        self._resume_at = 0.0

    def take_validators(self) -> dict[str, list]:
        """Validators learnt since the last call, to persist with the page that used them."""
        pending, self._pending = self._pending, {}
        self._validators.update(pending)
        return pending

    async def get(self, url: str, params: Any = None, *,
                  conditional: bool = True) -> SyncResponse:
        """GET with If-None-Match / If-Modified-Since when this URL was seen before."""
        return await self.request("GET", url, params=params, conditional=conditional)

    async def post(self, url: str, body: Any) -> SyncResponse:
        """POST a JSON body (searches such as Jira's); never conditional."""
        return await self.request("POST", url, json_body=body, conditional=False)

    async def request(self, method: str, url: str, *, params: Any = None,
                      json_body: Any = None, conditional: bool = False) -> SyncResponse:
        full_url = str(httpx.URL(url, params=params) if params else httpx.URL(url))
        headers = dict(self.headers)
        known = self._pending.get(full_url) or self._validators.get(full_url)
        if conditional and self.conditional and known:
            etag, last_modified = known[0], known[1]
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        failures = rate_waits = 0
        while True:
            await self._wait_for_rate_limit()
            self._charge(full_url)
            try:
                response = await self.http.request(method, full_url, headers=headers, json=json_body)
            except AddressRefused as error:
                raise SyncHttpError(full_url, None, str(error)) from None  # retrying cannot change it
            except httpx.TimeoutException as error:
                failures += 1
                await self._backoff(full_url, failures, None, f"timed out ({error.__class__.__name__})")
                continue
            except httpx.TransportError as error:
                failures += 1
                await self._backoff(full_url, failures, None, f"connection failed: {error}")
                continue
            self._note_rate_limit(response.headers)
            if response.status_code == 304:
                # A 304 is free: GitHub does not count it against the rate limit, nor do we.
                self.stats.not_modified += 1
                self._charged -= 1
                if known:
                    self._pending[full_url] = [known[0], known[1], self._clock()]
                return self._wrap(full_url, response)
            if self._is_rate_limited(response):
                rate_waits += 1
                if rate_waits > self.max_attempts:
                    raise RateLimitTooLong(f"{full_url} stayed rate-limited after {self.max_attempts} waits")
                self._delay_after_limit(response)
                self.stats.retries += 1
                continue
            if response.status_code in RETRYABLE_STATUSES:
                failures += 1
                await self._backoff(full_url, failures, response, response.reason_phrase)
                continue
            if response.status_code >= 400:
                raise SyncHttpError(full_url, response.status_code, _reason(response))
            self._remember_validators(full_url, response.headers)
            return self._wrap(full_url, response)

    def _charge(self, url: str) -> None:
        if self.budget is not None and self._charged >= self.budget:
            raise BudgetExhausted(f"request budget of {self.budget} spent before {url}")
        self._charged += 1
        self.stats.requests += 1

    async def _wait_for_rate_limit(self) -> None:
        wait = self._resume_at - self._clock()
        if wait <= 0:
            return
        if wait > self.max_rate_wait:
            raise RateLimitTooLong(f"rate limit resets in {wait:.0f}s, longer than {self.max_rate_wait:.0f}s")
        log.info("waiting for the tool's rate limit", seconds=round(wait, 1))
        self.stats.waited_seconds += wait
        await self._sleep(wait)

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        remaining, reset = _rate_limit(headers)
        if remaining == 0 and reset is not None:
            # Large values are epoch seconds (GitHub, GitLab); small ones a delta (some proxies).
            resume = reset if reset > 1e9 else self._clock() + reset
            self._resume_at = max(self._resume_at, resume + 1.0)

    @staticmethod
    def _is_rate_limited(response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        # A 403 is a rate limit only when the tool says so; otherwise it is a permission problem.
        remaining, _ = _rate_limit(response.headers)
        return response.status_code == 403 and ("retry-after" in response.headers or remaining == 0)

    def _delay_after_limit(self, response: httpx.Response) -> None:
        seconds = retry_after_seconds(response.headers.get("retry-after"), self._clock())
        if seconds is None and self._resume_at <= self._clock():
            # GitHub's secondary limits without Retry-After: wait at least a minute.
            seconds = 60.0
        if seconds is not None:
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def _backoff(self, url: str, failures: int, response: httpx.Response | None, reason: str) -> None:
        if failures >= self.max_attempts:
            raise SyncHttpError(url, response.status_code if response is not None else None,
                                f"{reason} (gave up after {failures} attempts)")
        self.stats.retries += 1
        delay = jittered_backoff(failures, self.base_backoff, rng=self._rng)
        if response is not None:
            delay = max(delay, retry_after_seconds(response.headers.get("retry-after"), self._clock()) or 0)
        log.info("retrying request", url=url, reason=reason, attempt=failures + 1, delay=round(delay, 2))
        self.stats.waited_seconds += delay
        await self._sleep(delay)

    def _remember_validators(self, url: str, headers: httpx.Headers) -> None:
        etag, last_modified = headers.get("etag"), headers.get("last-modified")
        if etag or last_modified:
            self._pending[url] = [etag, last_modified, self._clock()]

    @staticmethod
    def _wrap(url: str, response: httpx.Response) -> SyncResponse:
        links = {rel: link["url"] for rel, link in response.links.items() if "url" in link}
        return SyncResponse(url=url, status=response.status_code, headers=response.headers,
                            content=response.content, links=links)


def _reason(response: httpx.Response) -> str:
    """The tool's own message when it sends one (GitHub `message`, GitLab `message`/`error`)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error", "errorMessages"):
            if body.get(key):
                return str(body[key])[:300]
    return response.reason_phrase
