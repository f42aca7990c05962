"""`flowport metrics rebuild`: rebuild the DORA rollup of every component from its flow records, and
every request's passes from its stage events."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from portal.cli_progress import counted_progress
from portal.cli_support import load_settings, open_engine, reports_errors, require_current_schema

metrics_app = typer.Typer(help="Maintain the metrics' derived data.", no_args_is_help=True)


@metrics_app.command("rebuild")
@reports_errors
def rebuild() -> None:
    """Rebuild every component's DORA samples from the flow records (docs/metrics.md, "How DORA is
    computed at scale") and every request's passes from its stage events ("Value stream map"). Never
    needed for correctness: writers, reads and the worker keep both current."""
    from portal.metrics.dora_refresher import rebuild_all
    from portal.requests.passes import rebuild_request_passes

    settings = load_settings()
    console = Console(stderr=True)
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        started = time.perf_counter()
        with counted_progress(console) as progress:
            task = progress.add_task("Rebuilding the DORA rollup", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            written = rebuild_all(engine, report)
            task = progress.add_task("Deriving the requests' passes", total=None)
            passes = rebuild_request_passes(engine, report)
    typer.echo(f"Rebuilt the DORA rollup: {written:,} samples, and {passes:,} request passes, in "
               f"{time.perf_counter() - started:.1f} s")
