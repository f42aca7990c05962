"""Incremental pull sync of an unchanged repository: every request conditional, every answer a 304.

    .venv/bin/python -m bench.sync_unchanged [--pulls N] [--page-size N]

A GitHub repository with N pull requests (and deployments, workflow runs, issues and releases in
proportion) is served by the test suite's stub REST API (tests/sync/fake_github.py: Link pagination,
ETags, rate-limit headers) through httpx.MockTransport, into a fresh SQLite database. The first sync
reads everything; the second, with nothing changed, must send only conditional requests and get
only 304s; the third follows one updated pull request. Requests, 304s, records and seconds of each are
printed and written to bench/results/sync-<timestamp>.json. The stub answers in microseconds, so the
seconds are Flowport's own cost per request, not a tool's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_code, describe_machine
from flowport_github import GitHubConfig, GitHubPlugin
from portal.db import build_engine
from portal.migrate import upgrade
from portal.sync.runner import sync_connection
from tests.sync.conftest import link_component
from tests.sync.fake_github import SLUG, FakeClock, FakeGitHub, make_deployment, make_issue, make_pull, make_release, \
    make_run, make_status

RESULTS = Path(__file__).resolve().parent / "results"


def stocked_repository(pulls: int, page_size: int) -> FakeGitHub:
    github = FakeGitHub(page_size=page_size)
    github.pulls = [make_pull(n, updated_minutes=n * 10, merged=n % 3 == 0) for n in range(1, pulls + 1)]
    deployments = max(1, pulls // 3)
    github.deployments = [make_deployment(10_000 + n, n * 30) for n in range(deployments)]
    github.statuses = {10_000 + n: [make_status(20_000 + n, "success", n * 30 + 5)] for n in range(deployments)}
    github.runs = [make_run(30_000 + n, n * 15) for n in range(max(1, pulls // 2))]
    github.issues = [make_issue(40_000 + n, n * 20, closed=n % 2 == 0) for n in range(max(1, pulls // 2))]
    github.releases = [make_release(50_000 + n, n * 600, n * 600 + 5) for n in range(max(1, pulls // 20))]
    return github


def timed_sync(engine, plugin, github: FakeGitHub, clock: FakeClock) -> dict:
    github.requests.clear()
    started = time.perf_counter()
    report = asyncio.run(sync_connection(engine, plugin, transport=github.transport(), sleep=clock.sleep,
                                         clock=clock, rng=random.Random(1), budget=None))
    seconds = time.perf_counter() - started
    conditional = sum(1 for request in github.requests
                      if request.headers.get("if-none-match") or request.headers.get("if-modified-since"))
    return {"requests": report.requests, "not_modified": report.not_modified, "conditional": conditional,
            "records": report.records, "error": report.error, "seconds": round(seconds, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_unchanged", description=__doc__.split("\n")[0])
    parser.add_argument("--pulls", type=int, default=1000, help="pull requests in the repository (default 1000)")
    parser.add_argument("--page-size", type=int, default=100, help="items per page, as per_page=100 (default 100)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flowport-sync-bench-") as folder:
        engine = build_engine(f"sqlite:///{Path(folder) / 'flowport.db'}")
        upgrade(engine)
        link_component(engine, "hello-world", {"github.com/project-slug": SLUG})
        github, clock = stocked_repository(args.pulls, args.page_size), FakeClock()
        plugin = GitHubPlugin(GitHubConfig(name="default", token="ghp_bench_token"))
        runs = {"first (everything new)": timed_sync(engine, plugin, github, clock)}
        runs["second (nothing changed)"] = timed_sync(engine, plugin, github, clock)
        github.pulls[0] = make_pull(1, updated_minutes=args.pulls * 10 + 60, merged=False)
        runs["third (one pull request updated)"] = timed_sync(engine, plugin, github, clock)
        engine.dispose()
    for name, run in runs.items():
        print(f"{name}: {run['requests']} requests, {run['conditional']} conditional, {run['not_modified']} answered "
              f"304, {run['records']} records, {run['seconds']} s" + (f", error: {run['error']}" if run["error"] else ""))
    unchanged = runs["second (nothing changed)"]
    met = unchanged["requests"] > 0 and unchanged["conditional"] == unchanged["not_modified"] == unchanged["requests"]
    print(f"target (unchanged repository: only conditional requests, all answered 304): {'met' if met else 'NOT met'}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"sync-{stamp}.json"
    path.write_text(json.dumps({"started": stamp, "machine": describe_machine(), "code": describe_code(RESULTS.parent.parent),
                                "options": vars(args), "runs": runs, "met": met}, indent=2))
    print(f"results written to {path.relative_to(RESULTS.parent.parent)}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
