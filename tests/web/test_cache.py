"""The page-count cache: values kept for the time limit, recomputed after it."""

from __future__ import annotations

from portal.web.cache import TtlCache


def test_values_are_reused_within_ttl_and_recomputed_after():
    now = [100.0]
    cache = TtlCache(ttl=30, clock=lambda: now[0])
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("k", compute) == 1
    now[0] += 29
    assert cache.get_or_compute("k", compute) == 1
    assert cache.get_or_compute("other", compute) == 2
    now[0] += 2
    assert cache.get_or_compute("k", compute) == 3
    cache.clear()
    assert cache.get_or_compute("k", compute) == 4
