"""Webhook intake and normalization benchmark.

Intake, at a fixed rate (the primary measurement): signed GitHub `pull_request` deliveries, each with a
unique X-GitHub-Delivery, sent open-loop at --rate deliveries/s for --seconds by bench/webhook_load.mjs
(Node.js, a separate process) to Flowport's POST /webhooks/github; latency is timed from each request's
scheduled send time. Then the same load against a bare FastAPI endpoint that answers 202 without
storing (bench/webhook_bare_app.py), served the same way. Every acknowledged delivery must be in the inbox.

Intake at saturation (headroom): wrk with --connections connections for --saturation-seconds against
both servers (closed loop: it finds the most each can answer, latency there is mostly queueing).

Normalization: N stored deliveries processed by one worker (process_all), deliveries/s.

Run: .venv/bin/python -m bench.webhook_intake [--rate 1500] [--seconds 60] [--saturation-seconds 60]
     [--connections 32] [--workers 1] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_code, describe_machine
from bench.webhook_servers import (REPO, WRK_LUA, count_inbox, ensure_tools, run_fixed_rate, run_wrk, served,
                                   server_env)

FIXTURES = Path(os.environ.get("FLOWPORT_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))
SECRET = "bench-secret"
PAYLOAD = FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json"
SERVERS = (("flowport", "portal.app:create_app"), ("bare", "bench.webhook_bare_app:create_bare_app"))


def migrated(database_url: str) -> None:
    from portal.db import build_engine
    from portal.migrate import upgrade

    engine = build_engine(database_url)
    upgrade(engine)
    engine.dispose()


def bench_fixed_rate(database_url: str, env: dict, args: argparse.Namespace) -> dict:
    """Open-loop load at a fixed rate against Flowport, then the bare endpoint; checks nothing was lost."""
    results: dict = {}
    for name, factory in SERVERS:
        tag = f"{name}-rate-{uuid.uuid4().hex[:8]}"
        load_before = os.getloadavg()
        with served(factory, env, args.workers) as port:
            print(f"  {name}: {args.rate}/s for {args.seconds} s (after a {args.warmup} s ramp) …", flush=True)
            result = run_fixed_rate(port, PAYLOAD, SECRET, tag, args.rate, args.seconds, args.warmup, args.sockets)
        result["load_average"] = [load_before, os.getloadavg()]
        if name == "flowport":
            # The generator waits for every answer, so the inbox must hold exactly what was acknowledged.
            acknowledged = result["acked"] + result["warmup"]["acked"]
            stored = count_inbox(database_url, tag)
            result.update(acknowledged_total=acknowledged, stored=stored, lost=max(0, acknowledged - stored),
                          zero_lost=stored == acknowledged and result["unfinished"] == 0)
        results[name] = result
    flowport, bare = results["flowport"]["latencyMs"], results["bare"]["latencyMs"]
    results["p50_ratio_to_bare"] = flowport["p50"] / bare["p50"]
    results["p99_ratio_to_bare"] = flowport["p99"] / bare["p99"]
    results["acked_ratio_to_bare"] = results["flowport"]["ackedPerSecond"] / results["bare"]["ackedPerSecond"]
    return results


def bench_saturation(database_url: str, env: dict, data_dir: Path, args: argparse.Namespace) -> dict:
    """Closed-loop load (wrk): the most each server answers per second."""
    body = PAYLOAD.read_bytes()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    results: dict = {}
    for name, factory in SERVERS:
        tag = f"{name}-sat-{uuid.uuid4().hex[:8]}"
        script = data_dir / f"{name}.lua"
        script.write_text(WRK_LUA % {"body": PAYLOAD, "signature": signature, "run": tag})
        with served(factory, env, args.workers) as port:
            print(f"  {name}: wrk, {args.connections} connections, {args.saturation_seconds} s …", flush=True)
            result = run_wrk(port, args.saturation_seconds, args.connections, script)
        acknowledged = result.get("requests", 0) - result.get("non2xx", 0)
        result["acknowledged"] = acknowledged
        if name == "flowport":
            stored = count_inbox(database_url, tag)
            # wrk stops mid-flight: a request stored but not yet answered is counted stored, not acked.
            result.update(stored=stored, lost=max(0, acknowledged - stored))
        results[name] = result
    results["ratio_to_bare"] = results["flowport"]["rps"] / results["bare"]["rps"]
    return results


def bench_normalization(database_url: str, deliveries: int) -> dict:
    from sqlalchemy import delete, insert
    from sqlmodel import Session

    from portal.db import build_engine
    from portal.plugins.registry import build_registry
    from portal.webhooks.models import WebhookDelivery
    from portal.webhooks.processing import process_all

    engine = build_engine(database_url)
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
        # On PostgreSQL the intake runs' deliveries are still pending: out of the way, so exactly N
        # are processed. (SQLite gets a database file of its own.)
        session.execute(delete(WebhookDelivery))
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


@contextmanager
def bench_database(database: str, postgres_url: str, data_dir: Path) -> Iterator[str]:
    """A fresh migrated database for one run: a SQLite file in `data_dir`, or a PostgreSQL database of
    its own on `postgres_url`'s server, dropped afterwards."""
    drop = None
    if database == "postgres":
        database_url, drop = postgres_database(postgres_url)
    else:
        database_url = f"sqlite:///{data_dir / 'bench.db'}"
    try:
        migrated(database_url)
        yield database_url
    finally:
        if drop:
            drop()


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1500, help="fixed rate, deliveries/s (default 1500)")
    parser.add_argument("--seconds", type=int, default=60, help="length of each fixed-rate run (default 60)")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of load ramping up to the rate before the timed seconds (default 5)")
    parser.add_argument("--sockets", type=int, default=2048, help="most connections the generator opens (default 2048)")
    parser.add_argument("--saturation-seconds", type=int, default=60, help="wrk run length; 0 skips it")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--deliveries", type=int, default=20000, help="deliveries for the normalization run; 0 skips it")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the servers, to try a setting without changing code")
    return parser.parse_args(argv)


def target_met(run: dict, rate: int, seconds: int) -> bool:
    """Issue #3: >= 1,500 deliveries/s sustained for 60 s, p99 acknowledgement <= 50 ms, zero lost."""
    return (rate >= 1500 and seconds >= 60 and run["acked"] == run["sent"] and not run["errors"]
            and run["latencyMs"]["p99"] <= 50 and run["zero_lost"])


def summary(results: dict) -> str:
    options, rate = results["options"], results["fixed_rate"]
    machine = results["machine"]
    lines = [f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory']}, {machine['os']}, "
             f"Python {machine['python']}, SQLite {machine['sqlite']}"]
    for name in ("flowport", "bare"):
        run, lat = rate[name], rate[name]["latencyMs"]
        worst = max(rate[name]["timeline"], key=lambda second: second[2] or 0)
        line = (f"{name} at {run['rate']}/s for {run['seconds']} s: acked {run['acked']}/{run['sent']} "
                f"({run['ackedPerSecond']:.0f}/s), p50 {lat['p50']:.1f} / p90 {lat['p90']:.1f} / p99 {lat['p99']:.1f}"
                f" / p99.9 {lat['p99.9']:.1f} / max {lat['max']:.0f} ms (worst second p99 {worst[2]:.0f} ms), "
                f"errors {run['errors'] or 0}, waited for a socket {run['sockets']['waitedForSocket']}, "
                f"load average {run['load_average'][0][0]:.2f} -> {run['load_average'][1][0]:.2f}")
        if name == "flowport":
            line += (f", stored {run['stored']} of {run['acknowledged_total']} acknowledged "
                     f"(zero lost: {run['zero_lost']})")
        lines.append(line)
    lines.append(f"ratio to bare: p50 {rate['p50_ratio_to_bare']:.2f}, p99 {rate['p99_ratio_to_bare']:.2f}")
    met = target_met(rate["flowport"], options["rate"], options["seconds"])
    lines.append(f"target (>= 1,500/s for 60 s, p99 <= 50 ms, zero lost): {'met' if met else 'NOT met'}")
    if "saturation" in results:
        sat = results["saturation"]
        lines.append(f"saturation (wrk, {options['connections']} connections): flowport {sat['flowport']['rps']:.0f}/s "
                     f"(p50 {sat['flowport'].get('p50', 0):.1f} / p99 {sat['flowport'].get('p99', 0):.1f} ms, "
                     f"acknowledged {sat['flowport']['acknowledged']}, stored {sat['flowport']['stored']}, "
                     f"lost {sat['flowport']['lost']}), bare {sat['bare']['rps']:.0f}/s, ratio {sat['ratio_to_bare']:.2f}")
    if "normalization" in results:
        lines.append(f"normalization: {results['normalization']['per_second']:.0f}/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    ensure_tools(saturation=args.saturation_seconds > 0)
    results: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": describe_machine(),
                     "code": describe_code(REPO), "options": vars(args)}
    extra = dict(item.split("=", 1) for item in args.server_env)
    with tempfile.TemporaryDirectory(prefix="flowport-bench-") as tmp:
        data_dir = Path(tmp)
        with bench_database(args.database, args.postgres_url, data_dir) as database_url:
            env = server_env(database_url, data_dir, SECRET, extra)
            print(f"Webhook intake at a fixed rate ({args.database})", flush=True)
            results["fixed_rate"] = bench_fixed_rate(database_url, env, args)
            if args.saturation_seconds > 0:
                print(f"Webhook intake at saturation ({args.database})", flush=True)
                results["saturation"] = bench_saturation(database_url, env, data_dir, args)
            if args.deliveries > 0:
                print(f"Normalization of {args.deliveries} deliveries ({args.database}) …", flush=True)
                if args.database == "sqlite":
                    database_url = f"sqlite:///{data_dir / 'normalization.db'}"
                    migrated(database_url)
                results["normalization"] = bench_normalization(database_url, args.deliveries)
    out = REPO / "bench" / "results" / f"webhook-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(summary(results))
    print(f"results written to {out.relative_to(REPO)}")
    return results


if __name__ == "__main__":
    main()
