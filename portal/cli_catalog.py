"""`flowport catalog validate` and `flowport catalog import`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer

from portal.cli_support import (
    EXIT_USAGE,
    CliError,
    http_client,
    load_settings,
    open_engine,
    reports_errors,
    require_current_schema,
)

if TYPE_CHECKING:
    from portal.catalog.ingest import RefreshReport

catalog_app = typer.Typer(help="Check and load catalog descriptors.", no_args_is_help=True)


def open_ingest() -> ModuleType:
    """The ingestion package, imported only by the commands that need it."""
    try:
        from portal.catalog import ingest
    except ImportError as error:
        raise CliError(f"catalog ingestion is not available in this build: {error}") from None
    return ingest


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _validated_scope(paths: Sequence[Path]) -> tuple[int, int]:
    """How many entities and files the validation read, following Location targets, for the summary."""
    from portal.catalog.ingest.reader import TreeReader
    from portal.catalog.ingest.sources import SourceReader, location_key, split_key

    entities: set[tuple[str, str]] = set()
    files: set[str] = set()
    for path in paths:
        tree = TreeReader(SourceReader(None, ["*"], offline=True)).read(location_key("file", str(path.resolve())))
        entities |= {(item.location_key, item.ref) for item in tree.entities}
        files |= {target for kind, target in map(split_key, tree.visited) if kind == "file" and Path(target).is_file()}
    return len(entities), len(files)


@catalog_app.command("validate")
@reports_errors
def validate(
    paths: list[Path] = typer.Argument(
        ..., exists=True, readable=True,
        help="Descriptor files or folders (a folder is read through its all.yaml, else every *.yaml in it).",
    ),
) -> None:
    """Check descriptors without a database: prints `file:line: entity: field: message` per problem.

    Exits 1 when there are problems, so it can gate an application team's CI.
    """
    ingest = open_ingest()
    problems = ingest.validate_paths([str(path) for path in paths])
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        failing = {problem.file for problem in problems}
        typer.echo(f"{_plural(len(problems), 'problem')} in {_plural(len(failing), 'file')}")
        raise typer.Exit(1)
    entities, files = _validated_scope(paths)
    typer.echo(f"All {_plural(entities, 'entity', 'entities')} in {_plural(files, 'file')} are valid")


def _location_target(target: str) -> tuple[str, str]:
    """A URL stays as it is; a path must exist and is stored absolute."""
    if target.startswith(("http://", "https://")):
        return "url", target
    path = Path(target)
    if not path.exists():
        raise CliError(f"{target}: no such file or folder", EXIT_USAGE)
    return "file", str(path.resolve())


def _find_location_id(ingest: ModuleType, session, kind: str, target: str) -> str:  # noqa: ANN001
    for location in ingest.list_locations(session):
        if location["type"] == kind and location["target"] == target:
            return location["id"]
    raise CliError(f"{kind}:{target} is registered but could not be found again")


@catalog_app.command("import")
@reports_errors
def import_location(
    target: str = typer.Argument(..., help="A descriptor file, a folder, or an http(s) URL."),
) -> None:
    """Register a location (or refresh it if it is already registered) and load its entities."""
    from rich.console import Console
    from sqlmodel import Session

    from portal.cli_progress import entity_progress

    settings = load_settings()
    kind, target = _location_target(target)
    ingest = open_ingest()
    with open_engine(settings) as engine, http_client(settings) as http:
        require_current_schema(engine, settings)
        with Session(engine, expire_on_commit=False) as session, \
                entity_progress(Console(stderr=True), f"Importing {kind}:{target}") as on_progress:
            try:
                # Registering reads the location once already; its report is the import's result.
                report = ingest.register_location(session, settings, http, kind, target,
                                                  on_progress=on_progress).report
            except ingest.LocationExistsError:
                location_id = _find_location_id(ingest, session, kind, target)
                report = ingest.refresh_location(session, settings, http, location_id, on_progress=on_progress)
            except ingest.LocationError as error:
                raise CliError(str(error)) from None
            session.commit()
    if print_reports([report]):
        raise typer.Exit(1)


def print_reports(reports: Sequence[RefreshReport]) -> bool:
    """One summary line per refreshed location, then its errors; True when any had errors."""
    for report in reports:
        counts = (f"{report.inserted} new, {report.updated} updated, {report.unchanged} unchanged, "
                  f"{report.orphaned} orphaned")
        read = _plural(report.read, "entity", "entities")
        typer.echo(f"{report.target or report.location_id}: {read} read ({counts}), "
                   f"{_plural(len(report.errors), 'error')}")
        for error in report.errors:
            typer.echo(f"  {error}")
    return any(report.errors for report in reports)
