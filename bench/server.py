"""A real Flowport server in its own process (uvicorn), and its memory as the kernel reports it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.settings import Settings

START_TIMEOUT = 60.0


@dataclass
class RunningServer:
    """The server's process and base URL."""

    process: subprocess.Popen
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_keys() -> dict[str, str]:
    """Production refuses to start without its two keys; a benchmark run makes throwaway ones."""
    import secrets

    from cryptography.fernet import Fernet

    return {"FLOWPORT_SECRET_KEY": secrets.token_urlsafe(48), "FLOWPORT_SECRETS_KEY": Fernet.generate_key().decode()}


def _server_env(settings: Settings, pg_options: str | None, worker: bool = False) -> dict[str, str]:
    # uvicorn's --factory calls create_app() with no arguments, so Settings() reads exactly these.
    env = dict(os.environ)
    if pg_options:
        # libpq reads PGOPTIONS on connect: lets a run try session settings without code changes.
        env["PGOPTIONS"] = pg_options
    if settings.env == "production":
        env.update(bench_keys())
    env.update({
        "FLOWPORT_ENV": settings.env,
        "FLOWPORT_DATABASE_URL": settings.resolved_database_url,
        "FLOWPORT_DATA_DIR": str(settings.data_dir),
        # Off unless asked for: a run measures reads alone; `worker=True` serves as `make run` does.
        "FLOWPORT_RUN_WORKER": "true" if worker else "false",
        "FLOWPORT_CATALOG_PATHS": "",
        "FLOWPORT_TEMPLATE_PATHS": "",
        "FLOWPORT_LOG_LEVEL": "WARNING",
        "FLOWPORT_CATALOG_COUNT_CACHE_ENTRIES": str(settings.catalog_count_cache_entries),
        "FLOWPORT_API_RATE_LIMIT": "0",  # the load generator is one client sending thousands of requests
    })
    return env


@contextmanager
def running_server(settings: Settings, log_dir: Path, pg_options: str | None = None,
                   worker: bool = False) -> Iterator[RunningServer]:
    """Start `uvicorn portal.app:create_app --factory` on a free port; stop it on exit. `worker`: with the
    in-process worker (inbox, sync scheduler, request follower, DORA refresher) as `flowport serve` runs."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    command = [
        sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        # Access logs would time the terminal, not the portal; warnings and errors still show.
        "--no-access-log", "--log-level", "warning",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=_server_env(settings, pg_options, worker), stdout=log, stderr=subprocess.STDOUT,
                                   cwd=Path(__file__).resolve().parent.parent)
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_alive(server)
        yield server
    finally:
        stop_process(process, 15)


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_alive(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode}; "
                               f"its log ({server.log_path}):\n{server.log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {START_TIMEOUT:.0f} s; see {server.log_path}")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak so far (VmHWM), in MB, from /proc/<pid>/status."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)  # the kernel reports kB
    return values
