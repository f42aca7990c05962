"""Command line of the benchmark: `python -m bench [--entities N] [--database sqlite|postgres|both] [--requests N]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.report import markdown_report
from bench.runner import run_benchmarks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(
        "Generate a synthetic catalog, import it into a fresh database, serve it with uvicorn "
        "and measure import throughput, API and page latency, and server memory."))
    parser.add_argument("--entities", type=int, default=100_000, help="catalog size (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both",
                        help="which database to measure (default both); PostgreSQL is reached at "
                        "FLOWPORT_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per endpoint (default 500)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--pg-options", metavar="OPTIONS",
                        help="PGOPTIONS for the server process, to try session settings, e.g. "
                        "'-c plan_cache_mode=force_custom_plan'")
    parser.add_argument("--markdown", metavar="RESULTS_JSON",
                        help="print the Markdown tables of an earlier run's results file and exit")
    parser.add_argument("--keep", action="store_true", help="keep the generated catalog and server logs")
    args = parser.parse_args(argv)
    if args.entities < 100 or args.requests < 1:
        parser.error("--entities must be at least 100 and --requests at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        print(markdown_report(json.loads(Path(args.markdown).read_text())))
        return 0
    results = run_benchmarks(args.entities, args.database, args.requests, args.seed, args.keep, args.pg_options)
    # A run that could not measure something is a failed run; a missed target is a result.
    return 1 if any(run["problems"] for run in results["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
