"""Fewer glibc malloc arenas for the server process.

glibc gives each thread that allocates its own arena, up to eight per core. The portal answers from
a pool of worker threads, and each arena keeps its own free memory: with 8 concurrent clients at
100,000 entities the server's RSS was ~300 MB, with two arenas ~230 MB at the same latency
(docs/benchmarks.md). MALLOC_ARENA_MAX does the same, but only when set before the process starts;
mallopt works from inside, as long as it runs before other threads allocate (glibc fixes the limit
when the first extra arena is made), which is why create_app calls it first."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# From glibc's malloc.h: mallopt parameter for the arena limit.
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at `arenas` (0 leaves glibc's default); True when the cap was set.

    An explicit MALLOC_ARENA_MAX in the environment wins; other C libraries are left alone."""
    if arenas <= 0 or not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1
