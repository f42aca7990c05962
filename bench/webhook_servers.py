"""Servers and load generators for the webhook intake benchmark: uvicorn in a process of its own, the
open-loop fixed-rate generator (bench/webhook_load.mjs, Node.js) and the closed-loop saturation one (wrk)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.server import bench_keys

REPO = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = REPO / "bench" / "webhook_load.mjs"

WRK_LUA = r"""
counter = 0
wrk.method = "POST"
wrk.body = io.open("%(body)s", "rb"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "pull_request"
wrk.headers["X-Hub-Signature-256"] = "%(signature)s"
local threads_started = 0
setup = function(thread)
  threads_started = threads_started + 1
  thread:set("thread_tag", tostring(threads_started))
end
request = function()
  counter = counter + 1
  -- Unique per thread and request, so every delivery is new (no duplicates).
  wrk.headers["X-GitHub-Delivery"] = "%(run)s-" .. thread_tag .. "-" .. counter
  return wrk.format(nil, "/webhooks/github")
end
done = function(summary, latency, requests)
  io.write(string.format("FLOWPORT requests=%%d non2xx=%%d connect_errors=%%d read_errors=%%d timeouts=%%d\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.timeout))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("FLOWPORT p%%s=%%.3f\n", p, latency:percentile(p) / 1000.0))
  end
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start within {timeout:.0f} s")


@contextmanager
def served(factory: str, env: dict, workers: int) -> Iterator[int]:
    """Run `uvicorn --factory <factory>` until the block ends; yields its port once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        wait_ready(f"http://127.0.0.1:{port}/docs")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def ensure_tools(saturation: bool) -> None:
    """Node.js drives the fixed-rate load; wrk (a Debian package, installed when missing) the saturation load."""
    if not shutil.which("node"):
        raise SystemExit("node (Node.js >= 18) is needed for bench/webhook_load.mjs; install it and run again")
    if saturation and not shutil.which("wrk"):
        print("installing wrk (Debian package) for the saturation load …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)


def run_fixed_rate(port: int, body: Path | None, secret: str, tag: str, rate: int, seconds: int, warmup: float,
                   sockets: int, mix: Path | None = None) -> dict:
    """Open-loop load at `rate` deliveries/s for `seconds` (after `warmup` s at the same rate); the JSON it prints.
    `body` is one payload, sent as `pull_request` every time; `mix` instead a mix file (see bench/webhook_load.mjs)."""
    payload = ["--mix", str(mix)] if mix else ["--body", str(body)]
    command = ["node", str(LOAD_SCRIPT), "--url", f"http://127.0.0.1:{port}/webhooks/github", *payload,
               "--secret", secret, "--tag", tag, "--rate", str(rate), "--seconds", str(seconds),
               "--warmup", str(warmup), "--sockets", str(sockets)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_wrk(port: int, seconds: int, connections: int, script: Path) -> dict:
    """Closed-loop load: `connections` connections each sending the next request when the last is answered."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
               f"http://127.0.0.1:{port}/webhooks/github"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for key, value in re.findall(r"FLOWPORT (p[\d.]+)=(\S+)", output):
        result[key] = float(value)
    for key, value in re.findall(r"(requests|non2xx|connect_errors|read_errors|timeouts)=(\d+)", output):
        result[key] = int(value)
    return result


def count_inbox(database_url: str, run_tag: str) -> int:
    """Rows in the inbox whose delivery id carries this run's tag."""
    from sqlalchemy import text

    from portal.db import build_engine

    engine = build_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM webhook_deliveries WHERE delivery_id LIKE :tag"), {"tag": f"{run_tag}-%"}
        ).scalar_one()
    engine.dispose()
    return count


def server_env(database_url: str, data_dir: Path, secret: str, extra: dict | None = None,
               run_worker: bool = False) -> dict:
    """Production settings, no catalog, and by default no in-process worker: intake is measured alone.
    With `run_worker` the server normalizes (and runs its other background loops) as `flowport serve` does."""
    return {**os.environ, **bench_keys(), "FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(data_dir),
            "FLOWPORT_RUN_WORKER": "true" if run_worker else "false", "FLOWPORT_GITHUB_WEBHOOK_SECRET": secret,
            "FLOWPORT_LOG_LEVEL": "WARNING", "FLOWPORT_ENV": "production", "FLOWPORT_CATALOG_PATHS": "",
            "FLOWPORT_TEMPLATE_PATHS": "", **(extra or {})}
