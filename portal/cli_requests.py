"""`flowport requests import FILE`: bring a platform team's past requests in from JSON Lines."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from portal.cli_progress import counted_progress
from portal.cli_support import CliError, load_settings, open_engine, reports_errors, require_current_schema

requests_app = typer.Typer(help="Work with requests (orders and ideas).", no_args_is_help=True)

# A history of a few hundred thousand requests is tens of megabytes; a file far larger is a mistake.
MAX_FILE_BYTES = 1024 * 1024 * 1024
COMMIT_EVERY = 500
MAX_PRINTED_FAILURES = 200


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


@requests_app.command("import")
@reports_errors
def import_history(
    file: Path = typer.Argument(..., help="JSON Lines: one request a line (see docs/requests-import.md); - for stdin"),
) -> None:
    """Import past requests with their stage events and value; a line already imported is left as it is.

    Prints `FILE:LINE: reason` for each line that was not imported, and exits 1 when there was one."""
    from sqlmodel import Session

    from portal.requests.history_import import FAILED, HistoryImporter, ImportReport, numbered_lines

    stream, size = _open(file)
    settings = load_settings()
    console = Console(stderr=True)
    report = ImportReport()
    with stream, open_engine(settings) as engine:
        require_current_schema(engine, settings)
        with Session(engine, expire_on_commit=False) as session, counted_progress(console) as progress:
            importer = HistoryImporter(session)
            task = progress.add_task(f"Importing {file.name}", total=size or None)
            for count, (number, raw) in enumerate(numbered_lines(stream), start=1):
                outcome = importer.import_line(number, raw)
                report.add(outcome)
                if outcome.status == FAILED and len(report.failures) <= MAX_PRINTED_FAILURES:
                    progress.progress.console.print(f"{file}:{number}: {outcome.message}", markup=False, soft_wrap=True,
                                                    highlight=False)
                if count % COMMIT_EVERY == 0:
                    session.commit()  # a unit of work: an interrupted import keeps what it did, and resumes
                progress.update(task, completed=stream.tell() if size else count)
            session.commit()
    _summarize(report)


def _open(file: Path):  # noqa: ANN202 - a binary stream and its size
    import sys

    if str(file) == "-":
        return sys.stdin.buffer, 0
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise CliError(f"{file} is not a file")
        if size > MAX_FILE_BYTES:
            raise CliError(f"{file} is {size:,} bytes; split it into files of at most {MAX_FILE_BYTES:,} bytes")
        return file.open("rb"), size
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror}") from None


def _summarize(report) -> None:  # noqa: ANN001
    failed = len(report.failures)
    if failed > MAX_PRINTED_FAILURES:
        typer.echo(f"... and {failed - MAX_PRINTED_FAILURES:,} more lines not imported", err=True)
    typer.echo(f"{_plural(report.imported, 'request')} imported, {report.unchanged:,} already imported "
               f"(unchanged), {_plural(failed, 'line')} not imported")
    if failed:
        raise typer.Exit(1)
