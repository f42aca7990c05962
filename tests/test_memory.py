"""The server caps glibc's malloc arenas: worker threads share two instead of one each."""

import os
import subprocess
import sys

import pytest

from portal.memory import limit_malloc_arenas

# Eight threads each allocate through malloc (4 KiB objects are above pymalloc's limit), then glibc's
# malloc_stats() lists one "Arena N:" block per arena on stderr.
THREADS_ALLOCATING = """
import ctypes, ctypes.util, sys, threading
from portal.memory import limit_malloc_arenas
if sys.argv[1] == "capped":
    assert limit_malloc_arenas(2)
barrier = threading.Barrier(8)
def allocate():
    kept = [bytes(4096) for _ in range(200)]
    barrier.wait()  # all eight alive at once, so none can reuse another's arena
    del kept
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
"""


def arenas_used(mode: str) -> int:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATING, mode], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc arenas are glibc's")
def test_threads_share_two_arenas_once_capped():
    assert arenas_used("default") > 2
    assert arenas_used("capped") == 2


def test_an_explicit_environment_setting_or_zero_leaves_glibc_alone(monkeypatch):
    assert limit_malloc_arenas(0) is False
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False
