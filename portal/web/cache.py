"""A small per-app cache with a time limit, for counts that may lag the catalog by a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")
# Facet and tab counts over the whole catalog cost hundreds of milliseconds at 100k entities, while the
# catalog itself changes only on refresh (minutes apart): recounting at most every 30 s keeps pages fast.
DEFAULT_TTL = 30.0
MAX_ENTRIES = 256


class TtlCache:
    """Values computed on first use and kept for `ttl` seconds; thread-safe, bounded in size."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._values: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            found = self._values.get(key)
            if found is not None and now - found[0] < self.ttl:
                return found[1]  # type: ignore[return-value]
        value = compute()  # outside the lock: a slow count must not block other keys
        with self._lock:
            if len(self._values) >= MAX_ENTRIES:
                self._values.clear()
            self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def page_cache(request: Request) -> TtlCache:
    """The app's cache for page counts, created on first use (nothing happens at import time)."""
    state = request.app.state
    cache = getattr(state, "page_cache", None)
    if cache is None:
        cache = state.page_cache = TtlCache()
    return cache
