"""A description of the machine the numbers were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
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


def describe_machine() -> dict[str, str]:
    """CPU count and model, memory, OS, Python and SQLite versions (PostgreSQL's comes from its server)."""
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": _cpu_model(),
        "memory": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
