"""The DORA benchmark: `python -m bench.dora [--records 100000 1000000] [--database sqlite|postgres|both]`.

For each size and database: a fresh migrated database, the synthetic flow records of bench/dora_data.py,
then a real server (uvicorn, one worker, development settings so reads need no sign-in) and sequential
GET /api/v1/metrics/dora requests over one keep-alive client: a different random component each request,
and the platform product (100 components), each over the last 30 days and over the whole year.
Nearest-rank p50/p95. Results go to bench/results/dora-<timestamp>.json; docs/benchmarks.md has the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session

from bench import databases
from bench.dora_data import seed
from bench.load import percentile
from bench.machine import describe_code, describe_machine
from bench.report import RESULTS_DIR
from bench.server import running_server
from portal.db import build_engine
from portal.metrics.dora_refresher import rebuild_all
from portal.planner_statistics import refresh_planner_statistics
from portal.settings import Settings

WARM_UP = 10
WINDOWS = {"30 days": ("2025-12-02T00:00:00Z", "2026-01-01T00:00:00Z"),
           "one year": ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")}
TARGETS_MS = {"component": 100.0, "product": 200.0}


def _timed(client: httpx.Client, params: dict) -> float:
    started = time.perf_counter()
    response = client.get("/api/v1/metrics/dora", params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{params}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(base_url: str, components: list[str], product: str, requests: int, rng: random.Random) -> list[dict]:
    rows = []
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        for window_name, (start, end) in WINDOWS.items():
            for scope in ("component", "product"):
                def params() -> dict:
                    entity = rng.choice(components) if scope == "component" else product
                    return {"entity": entity, "from": start, "until": end}
                for _ in range(WARM_UP):
                    _timed(client, params())
                times = sorted(_timed(client, params()) for _ in range(requests))
                p95 = percentile(times, 0.95)
                rows.append({"measure": f"DORA, {scope}, {window_name}", "n": len(times),
                             "p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(p95, 2),
                             "max_ms": round(times[-1], 2), "target_p95_ms": TARGETS_MS[scope],
                             "met": p95 <= TARGETS_MS[scope]})
                print(f"  {rows[-1]}", flush=True)
    return rows


def bench_one(label: str, records: int, requests: int, work_dir: Path) -> dict:
    context = databases.sqlite_database(work_dir / f"{label}-{records}") if label == "sqlite" \
        else databases.postgres_database()
    with context as database:
        engine = build_engine(database.url)
        started = time.perf_counter()
        with Session(engine) as session:
            generated = seed(session, records)
        seeded = time.perf_counter() - started
        if label == "postgres":
            databases.vacuum_analyze(database.url)
        print(f"{label}: {generated.records:,} records written in {seeded:.0f} s", flush=True)
        # The records were inserted past the writer, as an existing installation's are before its first
        # upgrade: the rollup is built once for every component, as `flowport metrics rebuild` does.
        started = time.perf_counter()
        samples = rebuild_all(engine)
        built = time.perf_counter() - started
        refresh_planner_statistics(engine)  # as `flowport serve` does at start (SQLite; PostgreSQL: below)
        engine.dispose()
        if label == "postgres":
            databases.vacuum_analyze(database.url)
        print(f"{label}: DORA rollup built in {built:.0f} s ({samples:,} samples)", flush=True)
        settings = Settings(env="development", database_url=database.url, data_dir=work_dir / "data",
                            catalog_paths=[], template_paths=[], run_worker=False)
        with running_server(settings, work_dir) as server:
            rows = measure(server.base_url, generated.components, generated.product, requests, random.Random(7))
        return {"database": label, "server_version": database.server_version, "records": generated.records,
                "seed_seconds": round(seeded, 1),
                "rollup_seconds": round(built, 1), "rollup_samples": samples, "load_average_after": os.getloadavg(), "rows": rows}


def markdown(results: dict) -> str:
    lines = ["| database | records | measure | p50 ms | p95 ms | max ms | target p95 | met |", "|---|---|---|---|---|---|---|---|"]
    for run in results["runs"]:
        for row in run["rows"]:
            lines.append(f"| {run['database']} | {run['records']:,} | {row['measure']} | {row['p50_ms']} | "
                         f"{row['p95_ms']} | {row['max_ms']} | ≤ {row['target_p95_ms']:.0f} ms | "
                         f"{'met' if row['met'] else 'missed'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dora", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per measure (default 100)")
    parser.add_argument("--markdown", metavar="RESULTS_JSON", help="print an earlier run's table and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    labels = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {"machine": describe_machine(), "code": describe_code(Path(__file__).resolve().parent.parent),
               "load_average_before": os.getloadavg(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="flowport-dora-bench-") as folder:
        for records in args.records:
            for label in labels:
                results["runs"].append(bench_one(label, records, args.requests, Path(folder)))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"dora-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(markdown(results))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
