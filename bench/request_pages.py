"""The request lists and queues on a large synthetic history: `python -m bench.request_pages [--database sqlite|postgres]`.

Generates 10 platform products, 200 capabilities (manual, automated and approval in turn), 100 teams of
20 people, 50,000 requests and 500,000 stage events, then times “My requests”, “Our team's requests”,
the owners' queues and the ideas page in process (FastAPI's TestClient, no network) as one person,
and prints p50/p95 per page. Run it on a quiet machine: the numbers are only as calm as the CPU.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from bench.databases import postgres_database, sqlite_database, vacuum_analyze
from portal.catalog.store import PreparedEntity, write_entities
from portal.requests.models import Request, RequestEvent

PRODUCTS, CAPABILITIES, TEAMS, PEOPLE_PER_TEAM = 10, 200, 100, 20
REQUESTS, EVENTS_PER_REQUEST = 50_000, 10
PAGES = ("/requests/mine", "/requests/team", "/queues", "/queues?queue=work", "/ideas")
ORDER_STAGES = ("submitted", "awaiting-approval", "fulfilling", "delivered", "in-use", "value-confirmed", "cancelled")
LOCATION = "file:/bench/request-pages.yaml"


def _entity(api_version: str, kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec}


def catalog() -> list[dict]:
    """Teams, people, products (owned by every ninth team) and capabilities (owned by every seventh)."""
    entities = []
    for team in range(TEAMS):
        members = [f"p{team}-{person}" for person in range(PEOPLE_PER_TEAM)]
        entities.append(_entity("backstage.io/v1alpha1", "Group", f"team-{team}",
                                {"type": "team", "children": [], "members": members}))
        entities += [_entity("backstage.io/v1alpha1", "User", name, {"memberOf": [f"team-{team}"]}) for name in members]
    for product in range(PRODUCTS):
        entities.append(_entity("flowport.dev/v1alpha1", "PlatformProduct", f"product-{product}",
                                {"type": "platform-product", "lifecycle": "production",
                                 "owner": f"group:default/team-{product * 9}"}))
    for number in range(CAPABILITIES):
        mode = ("manual", "automated", "approval")[number % 3]
        fulfillment = {"mode": mode, **({"approvers": f"group:default/team-{number % TEAMS}"}
                                        if mode == "approval" else {})}
        entities.append(_entity("flowport.dev/v1alpha1", "Capability", f"cap-{number}", {
            "product": f"platformproduct:default/product-{number % PRODUCTS}", "lifecycle": "ga",
            "owner": f"group:default/team-{(number * 7) % TEAMS}", "fulfillment": fulfillment}))
    return entities


def fill(url: str, seed: int = 7) -> None:
    """Write the catalog, the requests and their events (in batches, through SQLAlchemy Core)."""
    from portal.db import build_engine

    engine = build_engine(url)
    with Session(engine) as session:
        write_entities(session, [PreparedEntity(entity, LOCATION, LOCATION) for entity in catalog()])
        session.commit()
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        requests, events = [], []
        for number in range(1, REQUESTS + 1):
            capability, kind = rng.randrange(CAPABILITIES), "idea" if number % 10 == 0 else "order"
            at = start + timedelta(minutes=number)
            requests.append({
                "id": number, "kind": kind, "title": f"Request {number}", "flow_item_type": "feature",
                "capability_ref": None if kind == "idea" else f"capability:default/cap-{capability}",
                "product_ref": f"platformproduct:default/product-{capability % PRODUCTS}",
                "requester_ref": f"user:default/p{rng.randrange(TEAMS)}-{rng.randrange(PEOPLE_PER_TEAM)}",
                "stage": rng.choice(ORDER_STAGES) if kind == "order" else rng.choice(("submitted", "triaged")),
                "created_at": at, "updated_at": at + timedelta(hours=rng.randrange(1000)),
                "vote_count": rng.randrange(20) if kind == "idea" else 0})
            events += [{"request_id": number, "at": at + timedelta(minutes=step), "actor": "user:default/p0-0",
                        "from_stage": "submitted", "to_stage": "fulfilling", "source": "user", "is_rework": False}
                       for step in range(EVENTS_PER_REQUEST)]
            if len(events) >= 50_000:
                connection.execute(insert(Request.__table__), requests)
                connection.execute(insert(RequestEvent.__table__), events)
                requests, events = [], []
        if requests:
            connection.execute(insert(Request.__table__), requests)
            connection.execute(insert(RequestEvent.__table__), events)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        engine.dispose()
    else:
        engine.dispose()
        vacuum_analyze(url)


def measure(url: str, person: str, rounds: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in milliseconds per page, as `person` (a member of team-9, which owns product-1)."""
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.settings import Settings
    from tests.web.csrf_support import dev_sign_in

    app = create_app(Settings(env="development", database_url=url, data_dir=Path(tempfile.mkdtemp()),
                              catalog_paths=[], template_paths=[], run_worker=False, api_rate_limit=0,
                              log_level="WARNING"))
    results = {}
    with TestClient(app) as client:
        dev_sign_in(client, person)
        for path in PAGES:
            timings = []
            for _ in range(rounds):
                began = time.perf_counter()
                assert client.get(path, headers={"accept": "text/html"}).status_code == 200, path
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            results[path] = (statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.request_pages", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=100, help="timed loads per page (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        opened = sqlite_database(Path(folder)) if args.database == "sqlite" else postgres_database()
        with opened as database:
            fill(database.url)
            for path, (p50, p95) in measure(database.url, "user:default/p9-3", args.rounds).items():
                print(f"{database.label:12} {path:22} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
