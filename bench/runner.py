"""One benchmark run: generate the catalog once, then import, serve and load it on each database."""

from __future__ import annotations

import os
import shutil
import tempfile
import traceback
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
from rich.console import Console

from bench import databases, importing, load
from bench.generate import GeneratedCatalog, generate_catalog
from bench.machine import describe_code, describe_machine
from bench.report import print_table, write_results
from bench.server import memory_mb, running_server
from portal.cli_progress import ManualProgress, counted_progress, entity_progress


CONCURRENT_CLIENTS = 8
CONCURRENT_SECONDS = 30.0


def _progress(console: Console) -> ManualProgress:
    # Redrawn by the timing loop itself: a display's refresh thread would compete with the client for the GIL.
    return counted_progress(console)


def generate(console: Console, folder: Path, entities: int, seed: int) -> GeneratedCatalog:
    with _progress(console) as progress:
        task = progress.add_task(f"generating {entities:,} entities", total=None)
        catalog = generate_catalog(folder, entities, seed,
                                   on_file=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"generated {catalog.total:,} entities in {len(catalog.files)} files: "
                  + ", ".join(f"{count:,} {kind}" for kind, count in catalog.counts.items()))
    return catalog


def _database(label: str, work_dir: Path) -> AbstractContextManager[databases.BenchDatabase]:
    if label == "sqlite":
        return databases.sqlite_database(work_dir / "data-sqlite")
    return databases.postgres_database()


def _ingestion_available() -> bool:
    try:
        from portal.catalog.ingest import refresh_location, register_location  # noqa: F401
    except ImportError:
        return False
    return True


def _import(console: Console, run: dict, settings, catalog: GeneratedCatalog) -> None:
    if not _ingestion_available():
        run["problems"].append("portal.catalog.ingest does not exist: imported with store.write_entities "
                               "directly (no location, no refresh measured)")
        console.print(f"  storing {catalog.total:,} entities with store.write_entities …")
        with entity_progress(console, "  storing"):
            run["import"] = importing.store_directly(settings, catalog.files, catalog.total).to_json()
        return
    console.print(f"  importing {catalog.total:,} entities (register_location) …")
    # No live spinner: its refresh thread takes the GIL ten times a second, which slowed a SQLite import by a fifth.
    with entity_progress(console, "  importing") as on_progress:
        location_id, result = importing.import_catalog(settings, catalog.root, catalog.total, on_progress)
    run["import"] = result.to_json()
    console.print(f"  import: {result.entities_per_second:,.0f} entities/s in {result.seconds:.1f} s, "
                  f"{result.stored_entities:,} stored, {result.processing_errors} processing errors")
    console.print("  refreshing the unchanged location …")
    with entity_progress(console, "  refreshing") as on_progress:
        refreshed = importing.refresh_unchanged(settings, location_id, catalog.total, on_progress)
    run["refresh_unchanged"] = refreshed.to_json()
    console.print(f"  refresh (unchanged): {refreshed.entities_per_second:,.0f} entities/s in {refreshed.seconds:.1f} s")


def _serve_and_load(console: Console, run: dict, settings, catalog: GeneratedCatalog,
                    requests: int, work_dir: Path, pg_options: str | None) -> None:
    console.print("  starting the server and sending requests …")
    options = pg_options if run["database"]["label"] == "postgres" else None
    with running_server(settings, work_dir, options) as server:
        run["memory"] = {"after_import": memory_mb(server.pid)}
        with httpx.Client(base_url=server.base_url, timeout=20.0) as client, _progress(console) as progress:
            scenarios = load.build_scenarios(client, catalog.component_names)
            for scenario in scenarios:
                task = progress.add_task(f"  {scenario.name}", total=requests)
                _time_scenario(run, client, scenario, requests, lambda: progress.advance(task))
        run["memory"]["after_load"] = memory_mb(server.pid)
        # Sequential requests use one database connection; real users do not.
        console.print(f"  {CONCURRENT_CLIENTS} concurrent clients for {CONCURRENT_SECONDS:.0f} s (memory) …")
        paths = [scenario.path_for(index) for scenario in scenarios[1:] for index in range(3)]
        run["concurrent_load"] = load.concurrent_load(server.base_url, paths, CONCURRENT_CLIENTS, CONCURRENT_SECONDS)
        run["memory"]["after_concurrent_load"] = memory_mb(server.pid)
    console.print("  a server without the count cache (every request as the first after a write) …")
    uncached = settings.model_copy(update={"catalog_count_cache_entries": 0})
    with running_server(uncached, work_dir, options) as server:
        with httpx.Client(base_url=server.base_url, timeout=20.0) as client, _progress(console) as progress:
            for scenario in load.uncached_scenarios(scenarios):
                task = progress.add_task(f"  {scenario.name}", total=requests)
                _time_scenario(run, client, scenario, requests, lambda: progress.advance(task))


def _time_scenario(run: dict, client: httpx.Client, scenario: load.Scenario, requests: int, advance) -> None:
    result = load.run_scenario(client, scenario, requests, advance)
    run["latency"].append({**vars(result), "met": result.met})
    if result.first_failure:
        run["problems"].append(f"{scenario.name}: {result.failures} of {result.requests} failed, "
                               f"first: {result.first_failure}")
    run["problems"] += [f"{scenario.name}: {note}" for note in result.notes]


def bench_database(console: Console, label: str, catalog: GeneratedCatalog, requests: int, work_dir: Path,
                   pg_options: str | None = None) -> dict:
    """Import, refresh, serve and load one database; a failing phase is recorded, not fatal."""
    # Other work on the machine skews every number; the load average shows whether there was any.
    run: dict = {"problems": [], "latency": [], "load_average_before": os.getloadavg()}
    console.rule(f"[bold]{label}")
    with _database(label, work_dir) as database:
        run["database"] = {"label": database.label, "server_version": database.server_version}
        settings = importing.bench_settings(database.url, work_dir / f"data-{label}")
        for phase in (lambda: _import(console, run, settings, catalog),
                      lambda: _analyze(run, database),
                      lambda: _serve_and_load(console, run, settings, catalog, requests, work_dir, pg_options)):
            try:
                phase()
            except Exception as error:  # noqa: BLE001 - report the failure and measure what still works
                run["problems"].append(f"{error.__class__.__name__}: {error}")
                console.print(f"[red]{label}: {error.__class__.__name__}: {error}[/]")
                console.print(traceback.format_exc(limit=-3), markup=False, highlight=False)
    run["load_average_after"] = os.getloadavg()
    print_table(console, run)
    return run


def _analyze(run: dict, database: databases.BenchDatabase) -> None:
    # PostgreSQL's autovacuum vacuums and analyzes a freshly loaded table within a minute; doing it
    # now removes that race. SQLite has no such daemon and Flowport runs no ANALYZE, so it is left alone.
    if database.label == "postgres":
        databases.vacuum_analyze(database.url)
        run["vacuum_analyzed"] = True


def run_benchmarks(entities: int, database: str, requests: int, seed: int, keep: bool,
                   pg_options: str | None = None, console: Console | None = None) -> dict:
    """The whole benchmark; returns (and writes) the results."""
    console = console or Console()
    machine = describe_machine()
    console.print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    work_dir = Path(tempfile.mkdtemp(prefix="flowport-bench-"))
    results = {"machine": machine, "code": describe_code(Path(__file__).resolve().parent.parent), "options": {"entities": entities, "requests": requests, "seed": seed,
                                               "warm_up_requests": load.WARM_UP_REQUESTS,
                                               "server_pgoptions": pg_options},
               "runs": []}
    try:
        catalog = generate(console, work_dir / "catalog", entities, seed)
        results["generated"] = {"counts": catalog.counts, "files": len(catalog.files)}
        labels = ["sqlite", "postgres"] if database == "both" else [database]
        for label in labels:
            results["runs"].append(bench_database(console, label, catalog, requests, work_dir, pg_options))
    finally:
        if keep:
            console.print(f"kept the generated catalog and server logs in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    path = write_results(results)
    console.print(f"results written to {path}")
    return results
