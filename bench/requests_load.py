"""Requests at scale: 50,000 requests with 500,000 stage events, read the way people read them.

    .venv/bin/python -m bench.requests_load [--requests N] [--events-per-request N] [--database sqlite|postgres|both]

A synthetic organisation (100 teams of 20 people, 10 platform products with 5 capabilities each,
owned and approved by platform teams) gets N requests (orders and ideas, in every stage, with about
`--events-per-request` events each, rework included) inserted in bulk into a fresh, migrated database.
A real server (uvicorn, production settings, `FLOWPORT_REQUESTS_VISIBLE_TO=involved`) is then asked,
with API tokens of real people from that catalog, for what the pages show: the whole list (an
admin), "My requests" (a requester), everything a requester may see (the visibility filter in SQL),
the approvers' queue, the owners' manual-work queue, the ideas to triage, and one request with its
timeline. Each is timed over `--timed` sequential requests (p50/p95/p99 against the 50 ms p95
target of issue #11), side by side with `/healthz` (the bare cost of a request through the stack).
Results are printed and written to bench/results/requests-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text
from sqlmodel import Session

from bench import databases
from bench.importing import bench_settings
from bench.load import Scenario, run_scenario
from bench.machine import describe_code, describe_machine
from bench.server import running_server
from portal.auth.tokens import issue_token
from portal.catalog.store import PreparedEntity, write_entities
from portal.db import build_engine
from portal.planner_statistics import refresh_planner_statistics
from portal.requests.models import Request, RequestEvent, component_parameter
from portal.requests.passes import rebuild_request_passes
from portal.requests.stages import DEFAULT_STREAMS, first_delivery

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_P95_MS = 50.0
TEAMS, PEOPLE_PER_TEAM, PRODUCTS, CAPABILITIES_PER_PRODUCT = 100, 20, 10, 5
LOCATION = "file:/bench/requests-org.yaml"
ORDER_LINE = ("submitted", "awaiting-approval", "fulfilling", "delivered", "in-use", "value-confirmed")
IDEA_LINE = ("submitted", "triaged", "planned", "in-progress", "released", "adopted", "value-realized")
INSERT_CHUNK = 5_000


def _entity(api_version: str, kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec}


def organisation(product_numbers: Iterable[int] = range(PRODUCTS)) -> tuple[list[dict], dict]:
    """The catalog (teams, people, platform teams, products, capabilities) and who is who in it.

    Product n is `product-<n>`, owned by team-n and approved by team-(n + 10); bench/metrics_pages.py
    leaves product 0 out and brings its own (the DORA benchmark's product, whose capabilities components use)."""
    entities: list[dict] = []
    people: list[str] = []
    for team in range(TEAMS):
        members = [f"person-{team}-{n}" for n in range(PEOPLE_PER_TEAM)]
        entities.append(_entity("backstage.io/v1alpha1", "Group", f"team-{team}", {"type": "team", "children": [],
                                                                                  "members": members}))
        entities += [_entity("backstage.io/v1alpha1", "User", name, {"memberOf": [f"team-{team}"]}) for name in members]
        people += [f"user:default/{name}" for name in members]
    capabilities = []
    for product in product_numbers:
        owner, approvers = f"team-{product}", f"team-{product + PRODUCTS}"
        entities.append(_entity("flowport.dev/v1alpha1", "PlatformProduct", f"product-{product}", {
            "type": "platform-product", "lifecycle": "production", "owner": f"group:default/{owner}"}))
        for n in range(CAPABILITIES_PER_PRODUCT):
            name = f"capability-{product}-{n}"
            mode = ("automated", "approval", "manual")[n % 3]
            fulfillment = {"mode": mode, **({"approvers": f"group:default/{approvers}"} if mode == "approval" else {})}
            entities.append(_entity("flowport.dev/v1alpha1", "Capability", name, {
                "product": f"platformproduct:default/product-{product}", "owner": f"group:default/{owner}",
                "lifecycle": "ga", "fulfillment": fulfillment, "targetLeadTime": "P2D"}))
            capabilities.append({"ref": f"capability:default/{name}", "product": f"platformproduct:default/product-{product}",
                                 "mode": mode, "owner": owner, "approvers": approvers})
    return entities, {"people": people, "capabilities": capabilities}


def _timeline(rng: random.Random, kind: str, created: datetime, events: int) -> list[tuple[datetime, str | None, str, bool]]:
    """(at, from, to, rework) of one request: forward along its line, with an occasional step back."""
    line = ORDER_LINE if kind == "order" else IDEA_LINE
    at, stage, position, steps = created, None, 0, []
    for index in range(events):
        if index == 0:
            to, rework = line[0], False
        elif position > 1 and rng.random() < 0.08:
            position, rework = position - 1, True
            to = line[position]
        else:
            position, rework = min(position + 1, len(line) - 1), False
            to = line[position]
        steps.append((at, stage, to, rework))
        stage = to
        at += timedelta(minutes=rng.randint(5, 3 * 24 * 60))
    return steps


@dataclass(frozen=True)
class RequestMix:
    """What seed_requests varies beyond its defaults (the requests API benchmark uses the defaults).

    `capability_weights`, aligned with the organisation's capabilities, skews which capability an order
    or idea is for (None: uniform); `component_for(capability, rng)` links an order to the component it is
    for (None: no link) and `parameters_for(capability, linked, rng)` gives its parameters (None: none);
    `outcomes` fills what delivery and value confirmation leave on a request (lead_time_ended_at,
    value_confirmed_at and a rating), derived from its timeline."""

    start: datetime = datetime(2025, 12, 1, tzinfo=UTC)
    capability_weights: tuple[float, ...] | None = None
    component_for: Callable[[dict, random.Random], str | None] | None = None
    parameters_for: Callable[[dict, str | None, random.Random], dict | None] | None = None
    outcomes: bool = False


def _outcomes(kind: str, request_id: int, steps: list[tuple[datetime, str | None, str, bool]]) -> dict:
    """Lead-time end as the portal keeps it (first arrival at delivery, cleared when moved back before it)
    and, for a confirmed order, when it was confirmed with a rating and time saved that follow from its id."""
    stream = DEFAULT_STREAMS[kind]
    ended = None
    for at, _, to, _ in steps[1:]:
        ended = (ended or at) if stream.ends_lead_time(to) else None
    answer: dict = {"lead_time_ended_at": ended}
    last_at, _, stage, _ = steps[-1]
    if kind == "order" and stage == "value-confirmed":
        answer.update({"value_confirmed_at": last_at, "value_rating": 1 + request_id % 5,
                       "value_time_saved": "PT2H", "value_time_saved_seconds": 7_200})
    return answer


def seed_requests(engine, orgs: dict, total: int, events_per_request: int, seed: int, console: Console,
                  mix: RequestMix = RequestMix()) -> int:
    """Insert `total` requests and their events in bulk; returns the number of events."""
    rng = random.Random(seed)
    # Components come from a generator of their own, so the requests themselves stay what the seed makes.
    component_rng = random.Random(seed + 1)
    start = mix.start
    requests, events, event_count = [], [], 0
    with engine.begin() as connection:
        for request_id in range(1, total + 1):
            capability = (rng.choice(orgs["capabilities"]) if mix.capability_weights is None
                          else rng.choices(orgs["capabilities"], mix.capability_weights)[0])
            kind = "order" if rng.random() < 0.8 else "idea"
            created = start + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
            steps = _timeline(rng, kind, created, max(1, int(rng.gauss(events_per_request, 2))))
            last_at, _, stage, _ = steps[-1]
            requests.append({
                "id": request_id, "kind": kind, "title": f"Request {request_id}",
                "capability_ref": capability["ref"] if kind == "order" else None, "product_ref": capability["product"],
                "requester_ref": rng.choice(orgs["people"]), "stage": stage, "flow_item_type": "feature",
                "created_at": created, "updated_at": last_at, "vote_count": 0, "target_lead_time": "P2D",
                "target_lead_time_seconds": 172_800, "delivered_at": first_delivery((at, to) for at, _, to, _ in steps)})
            if kind == "order" and mix.component_for is not None:
                requests[-1]["component_ref"] = mix.component_for(capability, component_rng)
            if kind == "order" and mix.parameters_for is not None:
                requests[-1]["parameters"] = mix.parameters_for(capability, requests[-1].get("component_ref"),
                                                                component_rng)
            if mix.outcomes:
                requests[-1].update(_outcomes(kind, request_id, steps))
            for at, from_stage, to_stage, rework in steps:
                events.append({"request_id": request_id, "at": at, "actor": requests[-1]["requester_ref"],
                               "from_stage": from_stage, "to_stage": to_stage, "source": "user", "is_rework": rework})
            if len(requests) >= INSERT_CHUNK:
                _insert(connection, requests, events)
                event_count += len(events)
                requests, events = [], []
                console.print(f"  {request_id:,} requests, {event_count:,} events", highlight=False)
        if requests:
            _insert(connection, requests, events)
            event_count += len(events)
        if engine.dialect.name == "postgresql":
            # Explicit ids bypass the sequences; move them on so the portal's own inserts do not collide.
            for table in ("requests", "request_events"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
    # Written past the request service: derive the passes and flow finish its writers keep.
    started = time.perf_counter()
    passes = rebuild_request_passes(engine)
    console.print(f"  derived {passes:,} request passes in {time.perf_counter() - started:.0f} s", highlight=False)
    return event_count


# Every optional column a RequestMix may fill: one executemany needs the same keys in every row.
_OPTIONAL = ("component_ref", "parameters", "lead_time_ended_at", "value_confirmed_at", "value_rating", "value_time_saved",
             "value_time_saved_seconds")


def _insert(connection, requests: list[dict], events: list[dict]) -> None:  # noqa: ANN001 - a Connection
    present = {key for row in requests for key in _OPTIONAL if key in row}
    rows = [{**{key: None for key in present}, **row, "component_parameter": component_parameter(row.get("parameters"))}
            for row in requests]
    connection.execute(insert(Request), rows)
    connection.execute(insert(RequestEvent), events)


def _tokens(engine, people: dict[str, str]) -> dict[str, str]:
    with Session(engine) as session:
        issued = {role: issue_token(session, kind="personal", subject_ref=ref, name=f"bench {role}", scopes=("read",),
                                    created_by="bench").token for role, ref in people.items()}
        session.commit()
    return issued


def scenarios(orgs: dict, rng: random.Random, total: int) -> tuple[list[tuple[str, Scenario]], dict[str, str]]:
    """(token role, scenario) pairs and the people behind the roles."""
    approval = next(c for c in orgs["capabilities"] if c["mode"] == "approval")
    manual = next(c for c in orgs["capabilities"] if c["mode"] == "manual")
    requester = orgs["people"][PEOPLE_PER_TEAM * 50 + 3]  # a member of an application team
    people = {"admin": "user:default/person-99-0", "requester": requester,
              "approver": f"user:default/person-{approval['approvers'].split('-')[1]}-0",
              "owner": f"user:default/person-{manual['owner'].split('-')[1]}-0"}
    ids = [rng.randint(1, total) for _ in range(1000)]
    api = "/api/v1/requests"
    return [
        ("admin", Scenario("bare: /healthz", lambda i: "/healthz", None, expect_json=False)),
        ("admin", Scenario("requests API: newest 50 (admin, all)", lambda i: f"{api}?limit=50", TARGET_P95_MS)),
        ("requester", Scenario("My requests", lambda i: f"{api}?requester={requester}&limit=50", TARGET_P95_MS)),
        ("requester", Scenario("everything a requester may see (visibility SQL)", lambda i: f"{api}?limit=50",
                               TARGET_P95_MS)),
        ("approver", Scenario("approvers' queue (awaiting approval)",
                              lambda i: f"{api}?stage=awaiting-approval&capability={approval['ref']}&limit=50",
                              TARGET_P95_MS)),
        ("owner", Scenario("owners' queue (manual work, submitted)",
                           lambda i: f"{api}?stage=submitted&capability={manual['ref']}&limit=50", TARGET_P95_MS)),
        ("owner", Scenario("ideas to triage (product)",
                           lambda i: f"{api}?kind=idea&stage=submitted&product={manual['product']}&limit=50",
                           TARGET_P95_MS)),
        ("admin", Scenario("one request with its timeline", lambda i: f"{api}/REQ-{ids[i % len(ids)]}",
                           TARGET_P95_MS)),
    ], people


def run_database(database: databases.BenchDatabase, args: argparse.Namespace, console: Console) -> dict:
    entities, orgs = organisation()
    engine = build_engine(database.url)
    try:
        with Session(engine) as session:
            write_entities(session, [PreparedEntity(entity, LOCATION, LOCATION) for entity in entities])
            session.commit()
        started = time.perf_counter()
        events = seed_requests(engine, orgs, args.requests, args.events_per_request, args.seed, console)
        seeded_seconds = time.perf_counter() - started
        # What a running portal's planner has after its periodic refresh (portal/planner_statistics.py);
        # PostgreSQL's autovacuum would have analyzed the new rows by then.
        if database.label == "postgres":
            databases.vacuum_analyze(database.url)
        else:
            refresh_planner_statistics(engine)
        planned, people = scenarios(orgs, random.Random(args.seed), args.requests)
        tokens = _tokens(engine, people)
    finally:
        engine.dispose()
    os.environ["FLOWPORT_ADMINS"] = people["admin"]
    results = []
    with tempfile.TemporaryDirectory() as data_dir:
        settings = bench_settings(database.url, Path(data_dir))
        with running_server(settings, Path(data_dir)) as server:
            clients = {role: httpx.Client(base_url=server.base_url, timeout=30,
                                          headers={"authorization": f"Bearer {token}"})
                       for role, token in tokens.items()}
            try:
                for role, scenario in planned:
                    result = run_scenario(clients[role], scenario, args.timed)
                    results.append({**result.__dict__, "as": role, "met": result.met})
                    console.print(f"  {scenario.name}: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms"
                                  + (f", {result.failures} failures ({result.first_failure})" if result.failures else ""),
                                  highlight=False)
            finally:
                for client in clients.values():
                    client.close()
    return {"database": {"label": database.label, "server_version": database.server_version},
            "requests": args.requests, "events": events, "seed_seconds": round(seeded_seconds, 1),
            "scenarios": results}


def print_run(console: Console, run: dict) -> None:
    table = Table(title=f"{run['requests']:,} requests, {run['events']:,} events on {run['database']['server_version']}")
    for column in ("scenario", "as", "p50 ms", "p95 ms", "p99 ms", "target p95", "met"):
        table.add_column(column)
    for row in run["scenarios"]:
        met = "—" if row["met"] is None else ("yes" if row["met"] else "NO")
        table.add_row(row["name"], row["as"], str(row["p50_ms"]), str(row["p95_ms"]), str(row["p99_ms"]),
                      "—" if row["target_p95_ms"] is None else f"{row['target_p95_ms']:.0f}", met)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.requests_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--events-per-request", type=int, default=10)
    parser.add_argument("--timed", type=int, default=500, help="timed requests per scenario (default 500)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if args.requests < 100 or args.events_per_request < 1 or args.timed < 1:
        parser.error("--requests must be at least 100, --events-per-request and --timed at least 1")
    console = Console()
    runs = []
    wanted = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    for label in wanted:
        console.print(f"[bold]{label}[/bold]: seeding {args.requests:,} requests", highlight=False)
        with tempfile.TemporaryDirectory() as folder:
            context = (databases.sqlite_database(Path(folder)) if label == "sqlite" else databases.postgres_database())
            with context as database:
                run = run_database(database, args, console)
        print_run(console, run)
        runs.append(run)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"requests-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({"machine": describe_machine(), "code": describe_code(RESULTS.parent.parent), "runs": runs}, indent=2,
                               default=str))
    console.print(f"results: {path}")
    return 1 if any(row["failures"] for run in runs for row in run["scenarios"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
