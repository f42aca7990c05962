"""`flowport sync [PLUGIN] [--connection NAME] [--full]`: pull flow data now, with a progress bar."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from portal.cli_support import CliError, EXIT_USAGE, load_settings, open_engine, reports_errors, require_current_schema
from portal.sync.runner import DEFAULT_REQUEST_BUDGET, SyncReport, sync_connection, sync_targets


def _registry(engine, settings):  # noqa: ANN001, ANN202
    """Plugins with their connections from the environment and, when present, the admin UI's store."""
    from portal.plugins.registry import build_registry

    registry = build_registry()
    try:
        from portal.plugins.connections import load_stored_connections
    except ImportError:  # stored connections are optional; env-configured ones still sync
        return registry
    load_stored_connections(engine, registry, settings)
    return registry


def _no_targets_message(registry, plugin: str | None, connection: str | None) -> str:  # noqa: ANN001
    pullable = sorted(f"{target.name}/{target.config.name}" for target in sync_targets(registry))
    if plugin and plugin not in registry.classes:
        return f"no plugin named {plugin!r} is installed (installed: {', '.join(sorted(registry.classes)) or 'none'})"
    wanted = f"{plugin or 'any plugin'}" + (f" connection {connection!r}" if connection else "")
    hint = f"connections that can sync: {', '.join(pullable)}" if pullable else (
        "configure one with FLOWPORT_<PLUGIN>_TOKEN (e.g. FLOWPORT_GITHUB_TOKEN) or in the admin UI")
    return f"nothing to sync for {wanted}: {hint}"


def _summary(report: SyncReport) -> str:
    label = f"{report.source}/{report.connection}"
    if report.skipped:
        return f"{label}: skipped ({report.skipped})"
    counts = (f"{report.pages} pages, {report.records} records, {report.requests} requests "
              f"({report.not_modified} not modified, {report.retries} retried)")
    if report.skipped_items:
        counts += f"; {report.skipped_note()}"
    if report.error:
        return f"{label}: failed after {counts}: {report.error}"
    if report.stopped:
        return f"{label}: stopped early after {counts}: {report.stopped}; the next run resumes there"
    return f"{label}: done, {counts}"


@reports_errors
def sync_command(
    plugin: str | None = typer.Argument(None, help="Only this plugin (github, gitlab, jira, pagerduty, cdevents)."),
    connection: str | None = typer.Option(None, "--connection", "-c", help="Only this connection of the plugin."),
    full: bool = typer.Option(False, "--full", help="Ignore saved cursors and validators and read everything."),
    budget: int = typer.Option(DEFAULT_REQUEST_BUDGET, min=1, help="Most requests per connection in this run."),
) -> None:
    """Pull changes, deployments, pipeline runs, incidents and work items from the configured tools."""
    settings = load_settings()
    console = Console(stderr=True)
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        registry = _registry(engine, settings)
        targets = sync_targets(registry, plugin, connection)
        if not targets:
            raise CliError(_no_targets_message(registry, plugin, connection), EXIT_USAGE)
        reports = []
        with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                      TextColumn("{task.completed:.0f} pages"), TextColumn("{task.fields[records]} records"),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            for target in targets:
                tasks: dict[str, int] = {}

                def on_page(resource: str, records: int, _prefix=f"{target.name}/{target.config.name}") -> None:
                    if resource not in tasks:
                        tasks[resource] = progress.add_task(f"{_prefix} {resource}", total=None, records=0)
                    task = tasks[resource]
                    progress.update(task, advance=1, records=progress.tasks[task].fields["records"] + records)

                reports.append(asyncio.run(sync_connection(
                    engine, target, full=full, budget=budget, on_page=on_page,
                    allow_private_networks=settings.url_allow_private_networks)))
                for task in tasks.values():
                    progress.update(task, total=progress.tasks[task].completed)
    for report in reports:
        typer.echo(_summary(report))
    if any(report.error for report in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `flowport sync` to the main command."""
    app.command("sync")(sync_command)
