"""A description of the machine the numbers were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> str:
    try:
        output = subprocess.run(["free", "-g"], capture_output=True, text=True, check=True).stdout
        for line in output.splitlines():
            if line.startswith("Mem:"):
                return f"{line.split()[1]} GB"
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown"


def python_reference_seconds() -> float:
    """Seconds for ten million additions in a Python loop: how fast this CPU runs Python today.

    Machines of one kind differ from day to day (the same model name ran this in 1.3-1.7 s on one
    day); numbers from two runs compare only next to this figure.
    """
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return round(time.perf_counter() - started, 2)


def describe_machine() -> dict[str, str]:
    """CPU count and model, memory, OS, Python and SQLite versions (PostgreSQL's comes from its server)."""
    return {
        "python_loop_10m_seconds": str(python_reference_seconds()),
        # What `nproc` reports: the CPUs this process may run on, not every CPU in the host.
        "cpus": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu_model": _cpu_model(),
        "memory": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def describe_code(repo: Path) -> dict[str, object]:
    """The commit measured and the source files changed on top of it, so numbers can be traced to code."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "portal", "migrations").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or "unknown", "uncommitted_changes": changed}
