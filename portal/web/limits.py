"""Token buckets per client, kept in this process's memory (each replica counts on its own)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

# Beyond this many clients the longest-idle bucket is forgotten, so a flood of addresses cannot
# grow memory without bound (a forgotten client starts again with a full bucket).
MAX_TRACKED_CLIENTS = 50_000


class RateLimiter:
    """`per_minute` requests per client key, in bursts of up to `per_minute`; O(1) per request."""

    def __init__(self, per_minute: int, max_clients: int = MAX_TRACKED_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def retry_after(self, key: str) -> int:
        """Take one token for `key`: 0 when the request may go on, else whole seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [self.capacity, now]
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(self.capacity, bucket[0] + (now - bucket[1]) * self.refill_per_second)
            bucket[1] = now
        if bucket[0] >= 1:
            bucket[0] -= 1
            return 0
        return max(1, math.ceil((1 - bucket[0]) / self.refill_per_second))
