"""Webhook intake and normalization end to end, as `make run` runs them: one server process takes the
deliveries and its in-process inbox worker normalizes them.

The server is started as bench/webhook_intake.py starts it (uvicorn, one worker, production settings, no
catalog) but with FLOWPORT_RUN_WORKER=true, so the inbox worker, the sync scheduler, the request follower
and the DORA refresher run inside it as they do under `flowport serve`. For each rate, a fresh server and
the open-loop generator (bench/webhook_load.mjs) sending a mix of signed GitHub deliveries (or only the
pull_request one, --events pull_request) for --seconds, after a --warmup ramp; meanwhile a separate engine
polls the inbox every 0.5 s for this run's deliveries: how many are stored and how many are still pending.
After the load it keeps polling until none is pending or --drain-timeout passes.

Per rate: sent, acknowledged, intake latency, zero lost (stored == acknowledged), processed and backlog at
the end of the load, whether the backlog grew during it, the time to drain it, the end-to-end rate
(deliveries / time from the first send to the poll that found nothing pending), and the deliveries that
ended failed, parked or ignored. The sustainable rate is the highest rate whose backlog stayed bounded and
whose intake answered every delivery with a p99 within 1 s.

Run: .venv/bin/python -m bench.webhook_end_to_end [--rates 500 1000 1500] [--seconds 60] [--warmup 5]
     [--drain-timeout 300] [--events mix|pull_request] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.machine import describe_code, describe_machine
from bench.server import stop_process
from bench.webhook_intake import FIXTURES, PAYLOAD, SECRET, bench_database
from bench.webhook_servers import REPO, count_inbox, ensure_tools, run_fixed_rate, served, server_env
from portal.webhooks.models import DELIVERY_STATUSES

FACTORY = "portal.app:create_app"
POLL_SECONDS = 0.5
PROGRESS_SECONDS = 5.0
# The backlog grew if, over the measured seconds, it rose by more than this share of the rate each second
# and more than this many seconds of deliveries were still waiting when the load ended (a worker that
# keeps up leaves at most about one idle pause's worth: it sleeps 0.5 s after a batch that was not full).
GROWTH_SHARE = 0.02
# A sustained rate also answers every delivery with an intake p99 at most this (GitHub gives up after 10 s).
MAX_INTAKE_P99_MS = 1000.0
BOUNDED_SECONDS = 1.0
# GitHub events of a busy repository, with weights (a guess, CI and pushes most frequent; not measured
# from real traffic). Paths under the octokit-webhooks fixtures; every event here makes flow records.
MIX = (
    ("push", "push/with-new-branch.payload.json", 3),
    ("workflow_run", "workflow_run/requested.payload.json", 2),
    ("workflow_run", "workflow_run/completed.payload.json", 2),
    ("check_suite", "check_suite/completed.payload.json", 2),
    ("pull_request", "pull_request/opened.payload.json", 1),
    ("pull_request", "pull_request/synchronize.payload.json", 2),
    ("pull_request", "pull_request/closed.payload.json", 1),
    ("issues", "issues/opened.payload.json", 1),
    ("deployment", "deployment/payload.json", 1),
    ("deployment_status", "deployment_status/payload.json", 1),
    ("release", "release/published.payload.json", 1),
)
# One statement, so one snapshot: this run's rows (ids above the inbox's largest before it) by status,
# read from the status index alone (it holds the row id) on SQLite.
STATUS_LIST = ", ".join(f"'{status}'" for status in DELIVERY_STATUSES)
POLL_QUERY = text(f"SELECT status, count(*) FROM webhook_deliveries WHERE status IN ({STATUS_LIST}) "
                  "AND id > :after GROUP BY status")
UNFINISHED_QUERY = text(f"SELECT status, event_type, delivery_id, last_error FROM webhook_deliveries "
                        "WHERE status IN ('failed', 'parked', 'ignored') AND id > :after ORDER BY id LIMIT 5")


def mix_entries(mix: tuple = MIX, seed: int = 0) -> list[dict]:
    """Each (event, payload, weight) `weight` times, in a fixed shuffled order: what the generator cycles through."""
    entries = [{"event": event, "body": str(FIXTURES / "github/octokit-webhooks" / path)}
               for event, path, weight in mix for _ in range(weight)]
    random.Random(seed).shuffle(entries)
    return entries


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0 with fewer than two distinct x."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def backlog_figures(samples: list[tuple[float, int, int]], first_send: float, measured_from: float,
                    load_end: float, rate: float) -> dict:
    """What the polled samples say. Each sample is (time, stored, pending) on one clock (seconds); the load
    ran from `first_send` (ramp until `measured_from`) to `load_end`, and one sample was taken at `load_end`.

    Processed means no longer pending (processed, ignored, failed or parked). The drain time runs from the
    end of the load to the first sample with nothing pending; the end-to-end time from the first send to
    that sample, so both are late by up to one poll interval."""
    at_end = next(sample for sample in samples if sample[0] >= load_end)
    drained = next((sample for sample in samples if sample[0] >= load_end and sample[2] == 0), None)
    during = [(t, pending) for t, _, pending in samples if measured_from <= t <= load_end]
    growth = slope(during)
    backlog_end = at_end[2]
    figures = {
        "processed_at_load_end": at_end[1] - at_end[2],
        "backlog_at_load_end": backlog_end,
        "max_backlog_during_load": max(pending for t, _, pending in samples if t <= at_end[0]),
        "backlog_growth_per_second": round(growth, 1),
        "backlog_grew": growth > GROWTH_SHARE * rate and backlog_end > BOUNDED_SECONDS * rate,
        "drain_seconds": None, "end_to_end_seconds": None, "end_to_end_per_second": None,
    }
    if drained is not None:
        elapsed = drained[0] - first_send
        figures.update(drain_seconds=round(drained[0] - load_end, 2), end_to_end_seconds=round(elapsed, 2),
                       end_to_end_per_second=round(drained[1] / elapsed, 1) if elapsed > 0 else None)
    return figures


def sustainable_rate(runs: list[dict], max_p99_ms: float = MAX_INTAKE_P99_MS) -> int | None:
    """The highest rate whose backlog stayed bounded and drained, with nothing lost, every delivery answered
    and an intake p99 within `max_p99_ms` (a worker that keeps up while the intake waits seconds has not
    sustained the rate: senders time out and send again)."""
    kept_up = [run["rate"] for run in runs
               if not run["backlog_grew"] and run["zero_lost"] and run["drain_seconds"] is not None
               and run["acknowledged"] == run["sent"] and run["latency_ms"]["p99"] is not None
               and run["latency_ms"]["p99"] <= max_p99_ms]
    return max(kept_up, default=None)


@contextmanager
def background_worker(env: dict, separate: bool) -> Iterator[None]:
    """With `separate`, a `flowport worker` process beside the server (docs/deployment.md's layout for more
    than a newcomer's load: web processes without the worker, one worker process); else nothing, the
    server's own in-process worker normalizes."""
    if not separate:
        yield
        return
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=env, cwd=REPO)
    try:
        yield
    finally:
        stop_process(process, 30)


class InboxPoller:
    """Counts this run's deliveries by status through an engine of its own."""

    def __init__(self, database_url: str) -> None:
        from portal.db import build_engine

        self.engine = build_engine(database_url)
        self.after = 0

    def start_run(self) -> int:
        """From now on count only rows the next run stores; returns how many are pending from earlier ones."""
        with self.engine.connect() as connection:
            self.after = connection.execute(text("SELECT coalesce(max(id), 0) FROM webhook_deliveries")).scalar_one()
            return connection.execute(text("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
                                      ).scalar_one()

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return dict(connection.execute(POLL_QUERY, {"after": self.after}).all())

    def unfinished_examples(self) -> list[dict]:
        with self.engine.connect() as connection:
            rows = connection.execute(UNFINISHED_QUERY, {"after": self.after}).all()
        return [{"status": status, "event_type": event, "delivery_id": delivery,
                 "error": (error or "")[:300] or None} for status, event, delivery, error in rows]

    def close(self) -> None:
        self.engine.dispose()


def bench_rate(rate: int, database_url: str, env: dict, mix_path: Path | None, poller: InboxPoller,
               args: argparse.Namespace, console: Console) -> dict:
    """One rate: a fresh server, the load with the inbox polled throughout, then the drain."""
    tag = f"e2e-{rate}-{uuid.uuid4().hex[:8]}"
    pending_before = poller.start_run()
    load_before = os.getloadavg()
    samples: list[tuple[float, int, int]] = []
    last_counts: dict[str, int] = {}

    def sample() -> tuple[float, int, int]:
        nonlocal last_counts
        last_counts = poller.counts()
        row = (time.time(), sum(last_counts.values()), last_counts.get("pending", 0))
        samples.append(row)
        return row

    def progress(row: tuple[float, int, int], started: float, label: str) -> None:
        console.print(f"    {row[0] - started:5.0f} s {label}: stored {row[1]:,}, processed {row[1] - row[2]:,}, "
                      f"backlog {row[2]:,}", highlight=False)

    with served(FACTORY, env, 1) as port, background_worker(env, args.separate_worker):
        console.print(f"  {rate}/s for {args.seconds} s (after a {args.warmup:g} s ramp), tag {tag}"
                      + (f"; {pending_before:,} still pending from earlier" if pending_before else ""), highlight=False)
        with ThreadPoolExecutor(1) as pool:
            spawned = time.time()
            load = pool.submit(run_fixed_rate, port, None if mix_path else PAYLOAD, SECRET, tag, rate, args.seconds,
                               args.warmup, args.sockets, mix_path)
            next_poll = next_progress = spawned
            while not load.done():
                row = sample()
                if row[0] >= next_progress:
                    progress(row, spawned, "load")
                    next_progress += PROGRESS_SECONDS
                next_poll += POLL_SECONDS
                # Woken as soon as the generator finishes: the sample below is the one at the load's end.
                wait([load], timeout=max(0.0, next_poll - time.time()))
            result = load.result()
        load_end = time.time()
        first_send = result["startedAtEpochMs"] / 1000
        row = sample()
        progress(row, first_send, "end of load")
        deadline = load_end + args.drain_timeout
        next_poll, next_progress = load_end + POLL_SECONDS, load_end + PROGRESS_SECONDS
        while row[2] > 0 and time.time() < deadline:
            time.sleep(max(0.0, next_poll - time.time()))
            next_poll += POLL_SECONDS
            row = sample()
            if row[2] == 0 or row[0] >= next_progress:
                progress(row, first_send, "drained" if row[2] == 0 else "draining")
                next_progress += PROGRESS_SECONDS
        if row[2] > 0:
            console.print(f"    [yellow]not drained[/] within {args.drain_timeout:g} s: {row[2]:,} still pending",
                          highlight=False)
    acknowledged = result["acked"] + result["warmup"]["acked"]
    stored = count_inbox(database_url, tag)
    run = {
        "rate": rate, "tag": tag, "pending_before": pending_before,
        "sent": result["sent"] + result["warmup"]["sent"], "acknowledged": acknowledged, "stored": stored,
        "zero_lost": stored == acknowledged and result["unfinished"] == 0,
        # What the end-to-end rate is to be compared with: all deliveries over the ramp and the timed seconds.
        "offered_per_second": round((result["sent"] + result["warmup"]["sent"]) / (args.warmup + args.seconds), 1),
        # Rows the poller counted (ids above the inbox's largest before the run) must be exactly the tag's.
        "polled_rows_are_the_runs": sum(last_counts.values()) == stored,
        "latency_ms": result["latencyMs"], "errors": result["errors"],
        **backlog_figures(samples, first_send, first_send + args.warmup, load_end, rate),
        "statuses_at_end": last_counts,
        "unfinished_examples": poller.unfinished_examples(),
        "load_average": [load_before, os.getloadavg()],
        "samples": [[round(t - first_send, 2), stored_now, pending] for t, stored_now, pending in samples],
        "generator": {key: value for key, value in result.items() if key != "timeline"},
        "timeline": result["timeline"],
    }
    return run


LAYOUTS = {False: "worker inside", True: "separate worker process"}


def results_table(runs: list[dict], console: Console, separate: bool = False) -> None:
    """One column per rate, one row per figure."""
    table = Table(title=f"Webhooks end to end, {LAYOUTS[separate]}")
    table.add_column("rate, deliveries/s")
    for run in runs:
        table.add_column(f"{run['rate']:,}", justify="right")

    def row(label: str, cell) -> None:  # noqa: ANN001 - a function of a run
        table.add_row(label, *(cell(run) for run in runs))

    def latency(run: dict) -> str:
        return " / ".join("—" if run["latency_ms"][key] is None else f"{run['latency_ms'][key]:.1f}"
                          for key in ("p50", "p99", "max"))

    row("acknowledged / sent", lambda run: f"{run['acknowledged']:,} / {run['sent']:,}")
    row("intake p50 / p99 / max, ms", latency)
    row("lost (stored vs acknowledged)", lambda run: "0" if run["zero_lost"] else
        f"{run['acknowledged'] - run['stored']:,} (stored {run['stored']:,})")
    row("processed at end of load", lambda run: f"{run['processed_at_load_end']:,}")
    row("backlog at end of load (max)", lambda run: f"{run['backlog_at_load_end']:,} ({run['max_backlog_during_load']:,})")
    row("backlog grew (trend)", lambda run: f"{'yes' if run['backlog_grew'] else 'no'} "
        f"({run['backlog_growth_per_second']:+,.0f}/s)")
    row("drained after, s", lambda run: "not drained" if run["drain_seconds"] is None else f"{run['drain_seconds']:.1f}")
    row("end to end, /s (offered)", lambda run: ("—" if run["end_to_end_per_second"] is None
                                                 else f"{run['end_to_end_per_second']:,.0f}")
        + f" ({run['offered_per_second']:,.0f})")
    row("failed / parked / ignored", lambda run: " / ".join(f"{run['statuses_at_end'].get(status, 0):,}"
                                                             for status in ("failed", "parked", "ignored")))
    console.print(table)
    for run in runs:
        for example in run["unfinished_examples"]:
            console.print(f"  {run['rate']}/s {example['status']}: {example['event_type']} {example['delivery_id']}"
                          f"{': ' + example['error'] if example['error'] else ''}", highlight=False)
        if not run["polled_rows_are_the_runs"]:
            console.print(f"  [yellow]{run['rate']}/s: the poller counted rows that are not this run's[/]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[500, 1000, 1500],
                        help="fixed rates to try, deliveries/s, one run each (default 500 1000 1500)")
    parser.add_argument("--seconds", type=int, default=60, help="length of each run's load (default 60)")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of load ramping up to the rate before the timed seconds (default 5)")
    parser.add_argument("--drain-timeout", type=float, default=300,
                        help="most seconds to wait after the load for the backlog to empty (default 300)")
    parser.add_argument("--events", choices=("mix", "pull_request"), default="mix",
                        help="a mix of GitHub events (default) or only the 28 KB pull_request one")
    parser.add_argument("--sockets", type=int, default=2048, help="most connections the generator opens (default 2048)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--separate-worker", action="store_true",
                        help="the server without its in-process worker plus a `flowport worker` process, as "
                             "docs/deployment.md lays out a production portal (default: the worker inside)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the server, to try a setting without changing code")
    args = parser.parse_args(argv)
    if min(args.rates) < 1 or args.seconds < 1 or args.drain_timeout < 0:
        parser.error("--rates and --seconds must be positive, --drain-timeout not negative")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    ensure_tools(saturation=False)
    # Wide enough for the table when the output goes to a file or a pipe (rich assumes 80 columns there).
    console = Console(width=None if sys.stdout.isatty() else 120)
    results: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": describe_machine(),
                     "code": describe_code(REPO), "options": vars(args), "runs": []}
    extra = dict(item.split("=", 1) for item in args.server_env)
    with tempfile.TemporaryDirectory(prefix="flowport-bench-e2e-") as tmp:
        data_dir = Path(tmp)
        mix_path = None
        if args.events == "mix":
            mix_path = data_dir / "mix.json"
            mix_path.write_text(json.dumps(mix_entries()))
            results["mix"] = [{"event": event, "payload": path, "weight": weight} for event, path, weight in MIX]
        with bench_database(args.database, args.postgres_url, data_dir) as database_url:
            env = server_env(database_url, data_dir, SECRET, extra, run_worker=not args.separate_worker)
            poller = InboxPoller(database_url)
            try:
                console.print(f"[bold]Webhooks end to end, {LAYOUTS[args.separate_worker]}[/] ({args.database}, "
                              f"{'a mix of GitHub events' if mix_path else 'pull_request only'})", highlight=False)
                for rate in args.rates:
                    results["runs"].append(bench_rate(rate, database_url, env, mix_path, poller, args, console))
            finally:
                poller.close()
    results["sustainable_rate"] = sustainable_rate(results["runs"])
    out = REPO / "bench" / "results" / f"webhook-e2e-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    machine = results["machine"]
    console.print(f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory']}, {machine['os']}, "
                  f"Python {machine['python']}, SQLite {machine['sqlite']}; commit {results['code']['commit']}",
                  highlight=False)
    results_table(results["runs"], console, args.separate_worker)
    sustainable = results["sustainable_rate"]
    console.print(f"sustainable (highest rate whose backlog stayed bounded and drained, nothing lost, every delivery "
                  f"answered, intake p99 ≤ {MAX_INTAKE_P99_MS:,.0f} ms): "
                  f"{f'{sustainable:,}/s' if sustainable else 'none of the rates tried'}", highlight=False)
    console.print(f"results written to {out.relative_to(REPO)}", highlight=False)
    return results


if __name__ == "__main__":
    main()
