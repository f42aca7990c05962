"""Retry timing shared by the inbox worker and the sync client."""

from __future__ import annotations

import random


def jittered_backoff(attempt: int, base: float, cap: float = float("inf"), rng: random.Random | None = None) -> float:
    """Seconds before retry number `attempt` (1-based): doubling from `base`, at most `cap`, drawn from the
    upper half of that ceiling so parallel retries do not arrive in step."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
