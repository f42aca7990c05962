"""What the webhook intake lets one process hold and take: a budget of body bytes in flight across all
deliveries being received, and a token bucket of deliveries per second for each tool connection."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from starlette.applications import Starlette

from portal.settings import Settings

# Deliveries over a limit are told to come back after this many seconds at the least.
MIN_RETRY_AFTER = 1


class BodyBudget:
    """Bytes of webhook bodies held at once by this process, from the first chunk read until the
    delivery is answered; a delivery that would go over it is refused instead of buffered."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()

    def room(self) -> int:
        return self.limit - self.in_flight

    def take(self, size: int) -> bool:
        """Hold `size` more bytes if they fit; False (nothing held) when they do not."""
        with self._lock:
            if self.in_flight + size > self.limit:
                return False
            self.in_flight += size
            return True

    def give_back(self, size: int) -> None:
        with self._lock:
            self.in_flight -= size


class RateLimiter:
    """A token bucket per key (a tool connection): `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        # key -> [tokens, when they were counted]; keys are configured connections only (the intake
        # looks the connection up first), so this never grows with what callers make up.
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def seconds_to_wait(self, key: tuple[str, str]) -> int:
        """0 when a delivery may go ahead (its token is taken), else the whole seconds until one may."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [self.burst, now]
            tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return 0
            bucket[0] = tokens
        return max(MIN_RETRY_AFTER, math.ceil((1.0 - tokens) / self.rate))


class IntakeLimits:
    """The limits of one app, built from its settings on the first delivery it receives."""

    def __init__(self, settings: Settings) -> None:
        self.max_bytes = settings.webhook_max_bytes
        # One delivery of the largest accepted size always fits.
        self.budget = BodyBudget(max(settings.webhook_body_budget_bytes, settings.webhook_max_bytes))
        rate = settings.webhook_rate_per_second
        self.rate = RateLimiter(rate, settings.webhook_rate_burst) if rate > 0 else None


def intake_limits(app: Starlette) -> IntakeLimits:
    """The app's intake limits (kept on app.state, so each app, and each test, has its own)."""
    limits = getattr(app.state, "webhook_limits", None)
    if limits is None:
        limits = app.state.webhook_limits = IntakeLimits(app.state.settings)
    return limits
