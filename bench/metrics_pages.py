"""The product-management pages at scale: `python -m bench.metrics_pages [--records 100000 1000000]
[--database sqlite|postgres|both] [--requests N]`.

For each size and database: a fresh migrated database holding both the DORA benchmark's flow records
(bench/dora_data.py: 500 components over one year, `bench-product` with 5 capabilities declared by 100 of
them) and the requests benchmark's 50,000 requests with about 500,000 stage events (bench/requests_load.py),
half of them for `bench-product`'s capabilities (a fifth of its orders linked to one of the components
that use the capability and a tenth of the others naming one in their parameters, so adoption and
impact have data) and half for 9 more products, so the portfolio has 10 rows. The data covers the year up to the day of the run, so the pages' default window (the last
30 days) holds some of it. Then a real server (uvicorn, one worker, development settings so reads need no
sign-in) and one keep-alive client: warm-up requests, then `--requests` sequential timed ones per measure
(the value-stream and flow APIs for the product, its metrics page as HTML and JSON, its impact fragment,
the portfolio, the DORA API for the product as the page's DORA part, and `/healthz` as the floor).
Nearest-rank p50/p95. Results go to bench/results/metrics-pages-<timestamp>.json; docs/benchmarks.md
("Product-management pages at scale") has the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from rich.console import Console
from sqlmodel import Session

from bench import databases, dora_data, requests_load
from bench.load import percentile
from bench.machine import describe_code, describe_machine
from bench.report import RESULTS_DIR
from bench.server import running_server
from portal.catalog.store import PreparedEntity, write_entities
from portal.db import build_engine
from portal.metrics.page_window import page_window
from portal.planner_statistics import refresh_planner_statistics
from portal.settings import Settings

PRODUCT_NAME = "bench-product"
PRODUCT = dora_data.PRODUCT
LOCATION = "file:/bench/metrics-pages.yaml"
WARM_UP = 3
# A measure stops early after this long (at least MIN_TIMED requests), so a slow page cannot hold up a run.
BUDGET_SECONDS = 180.0
MIN_TIMED = 10
# Of the orders for bench-product's capabilities, this share is linked to a component that uses the
# capability, and of the others this share names one in its parameters only (entities.ordered_component).
COMPONENT_SHARE = 0.2
PARAMETER_COMPONENT_SHARE = 0.1
TARGETS_MS = {"value-stream": 200.0, "product page": 300.0, "portfolio": 500.0}


@dataclass
class Measure:
    """One thing to time: a path with its query and the headers a browser or API client sends."""

    name: str
    path: str
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    target_p95_ms: float | None = None


def data_year_start(today: datetime) -> datetime:
    """The flow records cover the 365 days up to the start of today (UTC)."""
    return today.replace(hour=0, minute=0, second=0, microsecond=0) - dora_data.YEAR


def catalog_and_people() -> tuple[list[dict], dict]:
    """The DORA benchmark's catalog plus the requests benchmark's people and 9 more products.

    Both name their teams team-<n>; the requests benchmark's carry members, and a later duplicate wins
    in write_entities, so those come second."""
    requesting, orgs = requests_load.organisation(range(1, requests_load.PRODUCTS))
    owner, approvers = "team-0", f"team-{requests_load.PRODUCTS}"
    orgs["capabilities"] = [{"ref": f"capability:default/capability-{c}", "product": PRODUCT, "mode": "automated",
                             "owner": owner, "approvers": approvers, "index": c}
                            for c in range(dora_data.CAPABILITIES)] + orgs["capabilities"]
    return dora_data.catalog_entities() + requesting, orgs


def request_mix(orgs: dict, product_share: float, start: datetime) -> requests_load.RequestMix:
    """`product_share` of the requests for bench-product's capabilities, the rest spread over the others."""
    ours = [capability for capability in orgs["capabilities"] if capability["product"] == PRODUCT]
    others = len(orgs["capabilities"]) - len(ours)
    weights = tuple(product_share / len(ours) if capability["product"] == PRODUCT else (1 - product_share) / others
                    for capability in orgs["capabilities"])

    def component_for(capability: dict, rng: random.Random) -> str | None:
        if capability["product"] != PRODUCT or rng.random() >= COMPONENT_SHARE:
            return None
        return rng.choice(dora_data.capability_users(capability["index"]))

    def parameters_for(capability: dict, linked: str | None, rng: random.Random) -> dict:
        # What an order form sends: every order has parameters, and some name their component only there.
        parameters = {"environment": rng.choice(("staging", "production")), "size": rng.choice(("s", "m", "l"))}
        if linked is None and capability["product"] == PRODUCT and rng.random() < PARAMETER_COMPONENT_SHARE:
            parameters["component"] = rng.choice(dora_data.capability_users(capability["index"])).split("/")[-1]
        return parameters

    return requests_load.RequestMix(start=start, capability_weights=weights, component_for=component_for,
                                    parameters_for=parameters_for, outcomes=True)


def seed(url: str, label: str, args: argparse.Namespace, console: Console) -> dict:
    """Catalog, flow records and requests into one database, then the planner statistics a portal has."""
    engine = build_engine(url)
    year_start = data_year_start(datetime.now(UTC))
    try:
        started = time.perf_counter()
        entities, orgs = catalog_and_people()
        with Session(engine) as session:
            write_entities(session, [PreparedEntity(entity, LOCATION, LOCATION) for entity in entities])
            session.commit()
            flow = dora_data.seed_records(session, args.records_now, args.seed, year_start)
        flow_seconds = time.perf_counter() - started
        console.print(f"  {flow.records:,} flow records in {flow_seconds:.0f} s", highlight=False)
        started = time.perf_counter()
        # Requests are created over the year up to about two weeks before today, so most of their moves
        # lie in the past, and the last 30 days hold both new and finishing requests.
        mix = request_mix(orgs, args.product_share, year_start - timedelta(days=10))
        events = requests_load.seed_requests(engine, orgs, args.seeded_requests, args.events_per_request, args.seed,
                                             console, mix)
        request_seconds = time.perf_counter() - started
        if label == "postgres":
            databases.vacuum_analyze(url)
        else:
            refresh_planner_statistics(engine)
    finally:
        engine.dispose()
    return {"flow_records": flow.records, "requests": args.seeded_requests, "events": events,
            "year_start": year_start.isoformat(), "seed_seconds": {"flow": round(flow_seconds, 1),
                                                                   "requests": round(request_seconds, 1)}}


def measures() -> list[Measure]:
    """What is timed, over the pages' default window (the last 30 days up to the end of today)."""
    month = page_window(None, None, None, None).window
    year = page_window("365d", None, None, None).window
    html, as_json = {"accept": "text/html"}, {"accept": "application/json"}
    page = f"/products/{PRODUCT_NAME}/metrics"
    return [
        Measure("GET /healthz (floor)", "/healthz"),
        Measure("value-stream API, product, 30 days", "/api/v1/metrics/value-stream",
                {"product": PRODUCT, **month.iso()}, target_p95_ms=TARGETS_MS["value-stream"]),
        Measure("value-stream API, product, one year", "/api/v1/metrics/value-stream",
                {"product": PRODUCT, **year.iso()}, target_p95_ms=TARGETS_MS["value-stream"]),
        Measure("flow API, product, 30 days", "/api/v1/metrics/flow", {"product": PRODUCT, **month.iso()}),
        Measure("product page, HTML, 30 days", page, headers=html, target_p95_ms=TARGETS_MS["product page"]),
        Measure("product page, JSON twin, 30 days", page, headers=as_json),
        Measure("DORA API, product, 30 days (the page's DORA part)", "/api/v1/metrics/dora",
                {"entity": PRODUCT, **month.iso()}),
        Measure("impact fragment (HTMX), 30 days", f"{page}/impact", headers={**html, "hx-request": "true"}),
        Measure("portfolio, HTML, 30 days", "/portfolio", headers=html, target_p95_ms=TARGETS_MS["portfolio"]),
    ]


def _timed(client: httpx.Client, measure: Measure) -> float:
    started = time.perf_counter()
    response = client.get(measure.path, params=measure.params, headers=measure.headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{measure.name}: {response.status_code} {response.text[:300]}")
    return elapsed


def time_measure(client: httpx.Client, measure: Measure, requests: int) -> dict:
    for _ in range(WARM_UP):
        _timed(client, measure)
    times: list[float] = []
    began = time.monotonic()
    while len(times) < requests and (len(times) < MIN_TIMED or time.monotonic() - began < BUDGET_SECONDS):
        times.append(_timed(client, measure))
    times.sort()
    p95 = percentile(times, 0.95)
    target = measure.target_p95_ms
    return {"measure": measure.name, "request": measure.path + ("?" + urlencode(measure.params) if measure.params
                                                                 else ""),
            "n": len(times), "p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(p95, 2),
            "max_ms": round(times[-1], 2), "target_p95_ms": target, "met": None if target is None else p95 <= target}


def data_check(client: httpx.Client) -> dict:
    """What the pages found, so a run shows that every section had data to compute from."""
    page = client.get(f"/products/{PRODUCT_NAME}/metrics", headers={"accept": "application/json"}).json()
    portfolio = client.get("/portfolio", headers={"accept": "application/json"}).json()
    impact = client.get(f"/products/{PRODUCT_NAME}/metrics/impact", headers={"accept": "application/json"}).json()
    return {
        "product_components": len(page["components"]),
        "dora_deployments": page["dora"]["deploymentFrequency"]["samples"],
        "orders_finished": page["flow"]["velocity"]["finished"], "orders_in_progress": page["flow"]["load"]["wip"],
        "value_stream_items": sum(stage["items"] for stage in page["valueStream"]["stages"]),
        "adopting_components": page["value"]["adoption"]["components"],
        "delivered_orders": page["value"]["timeSaved"]["deliveredOrders"],
        "ratings": page["value"]["satisfaction"]["ratings"],
        "impact_components": sum(len(item["impact"]["components"]) for item in impact["capabilities"]),
        "portfolio_rows": len(portfolio["products"]),
    }


def bench_one(label: str, records: int, args: argparse.Namespace, work_dir: Path, console: Console) -> dict:
    context = databases.sqlite_database(work_dir / f"{label}-{records}") if label == "sqlite" \
        else databases.postgres_database()
    with context as database:
        args.records_now = records
        console.print(f"[bold]{label}[/bold], {records:,} flow records: seeding", highlight=False)
        seeded = seed(database.url, label, args, console)
        settings = Settings(env="development", database_url=database.url, data_dir=work_dir / "data",
                            catalog_paths=[], template_paths=[], run_worker=False)
        load_before = os.getloadavg()
        rows = []
        with running_server(settings, work_dir, worker=args.worker) as server, \
                httpx.Client(base_url=server.base_url, timeout=120.0) as client:
            checked = data_check(client)
            console.print(f"  data: {checked}", highlight=False)
            for measure in measures():
                rows.append(time_measure(client, measure, args.requests))
                console.print(f"  {rows[-1]['measure']}: p50 {rows[-1]['p50_ms']} ms, p95 {rows[-1]['p95_ms']} ms "
                              f"(n={rows[-1]['n']})", highlight=False)
        return {"database": label, "server_version": database.server_version, **seeded, "data": checked,
                "load_average_before": load_before, "load_average_after": os.getloadavg(), "rows": rows}


def markdown(results: dict) -> str:
    lines = ["| database | flow records | measure | n | p50 ms | p95 ms | max ms | target p95 | met |",
             "|---|---|---|---|---|---|---|---|---|"]
    for run in results["runs"]:
        for row in run["rows"]:
            target = "—" if row["target_p95_ms"] is None else f"≤ {row['target_p95_ms']:.0f} ms"
            met = "—" if row["met"] is None else ("met" if row["met"] else "missed")
            lines.append(f"| {run['database']} | {run['flow_records']:,} | {row['measure']} | {row['n']} | "
                         f"{row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics_pages", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000], help="flow records")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per measure (default 50)")
    parser.add_argument("--seeded-requests", type=int, default=50_000, help="portal requests seeded (default 50000)")
    parser.add_argument("--events-per-request", type=int, default=10)
    parser.add_argument("--product-share", type=float, default=0.5,
                        help="share of the seeded requests for bench-product (default 0.5)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--worker", action="store_true",
                        help="serve with the in-process worker on, as `make run` does (default: reads alone)")
    parser.add_argument("--markdown", metavar="RESULTS_JSON", help="print an earlier run's table and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if args.seeded_requests < 100 or args.requests < 1 or not 0 < args.product_share < 1:
        parser.error("--seeded-requests must be at least 100, --requests at least 1, --product-share in (0, 1)")
    console = Console()
    labels = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {"machine": describe_machine(), "code": describe_code(Path(__file__).resolve().parent.parent),
               "load_average_before": os.getloadavg(), "options": {key: value for key, value in vars(args).items()
                                                                   if key not in ("markdown", "records_now")},
               "runs": []}
    with tempfile.TemporaryDirectory(prefix="flowport-pages-bench-") as folder:
        for records in args.records:
            for label in labels:
                results["runs"].append(bench_one(label, records, args, Path(folder), console))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"metrics-pages-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
