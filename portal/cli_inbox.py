"""`flowport inbox ...`: process the webhook inbox, replay deliveries, run the inbox worker."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from portal.cli_support import CliError, load_settings, open_engine, reports_errors, require_current_schema, safe_url

inbox_app = typer.Typer(help="The webhook inbox: process deliveries, replay them after a normalizer fix.",
                        no_args_is_help=True)


def open_registry(engine, settings):  # noqa: ANN001, ANN201 - plugins are imported lazily
    """Plugins and their connections, built as the app builds them (environment and stored ones)."""
    from portal.plugins.connections import load_stored_connections
    from portal.plugins.registry import build_registry

    registry = build_registry()
    load_stored_connections(engine, registry, settings)
    return registry


@contextmanager
def _inbox() -> Iterator[tuple]:
    settings = load_settings()
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        yield settings, engine


def _print_report(report) -> None:  # noqa: ANN001
    typer.echo(f"Processed {report.processed} of {report.claimed} due deliveries into {report.records} records; "
               f"{report.failed} failed (will be retried), {report.parked} parked")
    for error in report.errors:
        typer.echo(f"  {error}", err=True)


@inbox_app.command("process")
@reports_errors
def process() -> None:
    """Process every delivery that is due now, then exit (exit code 1 if any failed)."""
    from portal.webhooks.processing import process_all

    with _inbox() as (settings, engine):
        report = process_all(engine, open_registry(engine, settings))
    _print_report(report)
    if report.failed or report.parked:
        raise typer.Exit(1)


@inbox_app.command("replay")
@reports_errors
def replay(
    delivery_id: int | None = typer.Option(None, "--id", help="Replay this one delivery (its inbox id)."),
    since: str | None = typer.Option(None, help="Replay every delivery received at or after this ISO-8601 time."),
    source: str | None = typer.Option(None, help="Only deliveries from this tool (github, gitlab, …)."),
) -> None:
    """Queue deliveries for processing again, e.g. after a normalizer was fixed."""
    from sqlmodel import Session

    from portal.flow.records import parse_time
    from portal.webhooks.processing import replay as replay_deliveries

    if (delivery_id is None) == (since is None):
        raise CliError("give either --id N or --since TIME", 2)
    since_time = parse_time(since) if since else None
    if since and since_time is None:
        raise CliError(f"--since {since!r} is not a time; use ISO-8601 such as 2024-05-01T00:00:00Z", 2)
    with _inbox() as (_settings, engine), Session(engine) as session:
        count = replay_deliveries(session, delivery_id=delivery_id, since=since_time, source=source)
        session.commit()
    if delivery_id is not None and count == 0:
        raise CliError(f"no delivery {delivery_id} to replay (no inbox row has that id)")
    typer.echo(f"Queued {count} {'delivery' if count == 1 else 'deliveries'} for processing again; "
               "the worker picks them up, or run `flowport inbox process`")


@inbox_app.command("worker")
@reports_errors
def worker(idle: float = typer.Option(0.5, help="Seconds to wait when nothing is due.")) -> None:
    """Process deliveries as they arrive, in the foreground, until Ctrl-C or SIGTERM."""
    from portal.webhooks.worker import InboxWorker

    stopping = threading.Event()
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with _inbox() as (settings, engine):
            inbox_worker = InboxWorker(engine, open_registry(engine, settings), idle_seconds=idle).start()
            typer.echo(f"Processing webhook deliveries from {safe_url(settings.resolved_database_url)}; "
                       "press Ctrl-C to stop")
            try:
                stopping.wait()
            except KeyboardInterrupt:
                pass
            finally:
                typer.echo("Stopping the inbox worker")
                inbox_worker.stop()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def register(app: typer.Typer) -> None:
    """Add `flowport inbox` to the main command."""
    app.add_typer(inbox_app, name="inbox")
