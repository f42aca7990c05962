"""Webhook intake and normalization benchmark.

Intake: signed GitHub `pull_request` deliveries, each with a unique X-GitHub-Delivery, sent by wrk
(a separate process) to Flowport's POST /webhooks/github for a fixed duration; then the same load
against a bare FastAPI endpoint that answers 202 without storing, served the same way. Reports
deliveries/s, latency percentiles, and checks that every acknowledged delivery is in the inbox.

Normalization: N stored deliveries processed by one worker (process_all), deliveries/s.

Run: .venv/bin/python -m bench.webhook_intake [--seconds 60] [--connections 32] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("FLOWPORT_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))
SECRET = "bench-secret"
PAYLOAD = FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json"

LUA = r"""
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
    raise RuntimeError(f"server at {url} did not start")


def serve(factory: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env=env, cwd=REPO)


def run_wrk(port: int, seconds: int, connections: int, script: Path) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
               f"http://127.0.0.1:{port}/webhooks/github"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for key, value in re.findall(r"FLOWPORT (\S+)=(\S+)", " ".join(output.split("\n"))):
        result[key] = float(value)
    for line in output.splitlines():
        for part in line.split():
            if part.startswith(("requests=", "non2xx=", "connect_errors=", "read_errors=", "timeouts=")):
                key, value = part.split("=")
                result[key] = int(value)
    return result


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package) for load generation …", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)


def count_inbox(database_url: str, run_tag: str) -> int:
    from sqlalchemy import text

    from portal.db import build_engine

    engine = build_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM webhook_deliveries WHERE delivery_id LIKE :tag"), {"tag": f"{run_tag}-%"}
        ).scalar_one()
    engine.dispose()
    return count


def bench_intake(database_url: str, data_dir: Path, seconds: int, connections: int, workers: int) -> dict:
    from portal.db import build_engine
    from portal.migrate import upgrade

    engine = build_engine(database_url)
    upgrade(engine)
    engine.dispose()
    body = PAYLOAD.read_bytes()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    results = {}
    env = {**os.environ, "FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(data_dir),
           "FLOWPORT_RUN_WORKER": "false", "FLOWPORT_GITHUB_WEBHOOK_SECRET": SECRET,
           "FLOWPORT_LOG_LEVEL": "WARNING", "FLOWPORT_ENV": "production", "FLOWPORT_CATALOG_PATHS": "",
           "FLOWPORT_TEMPLATE_PATHS": ""}
    for name, factory in (("flowport", "portal.app:create_app"), ("bare", "bench.webhook_bare_app:create_bare_app")):
        run_tag = f"{name}-{uuid.uuid4().hex[:8]}"
        script = data_dir / f"{name}.lua"
        script.write_text(LUA % {"body": PAYLOAD, "signature": signature, "run": run_tag})
        port = free_port()
        server = serve(factory, port, env, workers)
        try:
            wait_ready(f"http://127.0.0.1:{port}/docs")
            print(f"  {name}: {seconds} s of load with {connections} connections …", flush=True)
            result = run_wrk(port, seconds, connections, script)
        finally:
            server.terminate()
            server.wait(timeout=30)
        acknowledged = result.get("requests", 0) - result.get("non2xx", 0)
        result["acknowledged"] = acknowledged
        if name == "flowport":
            stored = count_inbox(database_url, run_tag)
            result["stored"] = stored
            # wrk stops mid-flight: a request stored but not yet answered is counted stored, not acked.
            result["lost"] = max(0, acknowledged - stored)
        results[name] = result
    results["ratio_to_bare"] = results["flowport"]["rps"] / results["bare"]["rps"]
    return results


def bench_normalization(database_url: str, deliveries: int) -> dict:
    from sqlalchemy import insert
    from sqlmodel import Session

    from portal.db import build_engine
    from portal.migrate import upgrade
    from portal.plugins.registry import build_registry
    from portal.webhooks.models import WebhookDelivery
    from portal.webhooks.processing import process_all

    engine = build_engine(database_url)
    upgrade(engine)
    events = [("pull_request", "pull_request/opened.payload.json"), ("deployment", "deployment/payload.json"),
              ("deployment_status", "deployment_status/payload.json"),
              ("workflow_run", "workflow_run/completed.payload.json"), ("issues", "issues/opened.payload.json")]
    bodies = [(event, (FIXTURES / "github/octokit-webhooks" / path).read_bytes()) for event, path in events]
    now = datetime.now(UTC)
    rows = []
    for index in range(deliveries):
        event, body = bodies[index % len(bodies)]
        # Vary the numbers so records are distinct rows, as real traffic would be.
        payload = json.loads(body)
        for key in ("pull_request", "deployment", "workflow_run", "issue"):
            if isinstance(payload.get(key), dict):
                payload[key]["id"] = index
                if "number" in payload[key]:
                    payload[key]["number"] = index
        rows.append({"source": "github", "connection": "default", "delivery_id": f"norm-{index}",
                     "event_type": event, "headers": json.dumps({"x-github-event": event}),
                     "body": json.dumps(payload).encode(), "content_type": "application/json",
                     "received_at": now, "status": "pending", "attempts": 0})
    with Session(engine) as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(WebhookDelivery), rows[start:start + 1000])
        session.commit()
    registry = build_registry({"FLOWPORT_GITHUB_WEBHOOK_SECRET": SECRET})
    started = time.perf_counter()
    report = process_all(engine, registry, limit=500)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"deliveries": report.processed, "failed": report.failed, "seconds": elapsed,
            "per_second": report.processed / elapsed}


def postgres_database(base: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from portal.db import normalize_url

    url = make_url(normalize_url(base))
    name = f"flowport_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--deliveries", type=int, default=20000, help="deliveries for the normalization run")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    ensure_wrk()
    results: dict = {"database": args.database, "seconds": args.seconds, "connections": args.connections,
                     "workers": args.workers}
    with tempfile.TemporaryDirectory(prefix="flowport-bench-") as tmp:
        data_dir = Path(tmp)
        drop = None
        if args.database == "postgres":
            database_url, drop = postgres_database(args.postgres_url)
        else:
            database_url = f"sqlite:///{data_dir / 'bench.db'}"
        try:
            print(f"Webhook intake ({args.database})", flush=True)
            results["intake"] = bench_intake(database_url, data_dir, args.seconds, args.connections, args.workers)
            print(f"Normalization of {args.deliveries} deliveries ({args.database}) …", flush=True)
            results["normalization"] = bench_normalization(database_url, args.deliveries)
        finally:
            if drop:
                drop()
    intake = results["intake"]
    print(json.dumps(results, indent=2))
    print(f"intake: {intake['flowport']['rps']:.0f}/s (bare {intake['bare']['rps']:.0f}/s, "
          f"ratio {intake['ratio_to_bare']:.2f}), p99 {intake['flowport'].get('p99', 0):.1f} ms, "
          f"acknowledged {intake['flowport']['acknowledged']}, stored {intake['flowport']['stored']}, "
          f"lost {intake['flowport']['lost']}; normalization {results['normalization']['per_second']:.0f}/s")
    return results


if __name__ == "__main__":
    main()
