"""Shared plumbing for the `flowport` commands: settings, database access and readable errors."""

from __future__ import annotations

import functools
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from portal.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to report as one readable line and an exit code, never as a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn CliError (and anything unexpected) into `Error: ...` on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - the user gets one line unless they ask for more
            if os.environ.get("FLOWPORT_LOG_LEVEL", "").upper() == "DEBUG":
                traceback.print_exc()
            typer.echo(
                f"Error: unexpected {error.__class__.__name__}: {error} "
                "(set FLOWPORT_LOG_LEVEL=DEBUG to see the traceback)",
                err=True,
            )
            raise typer.Exit(EXIT_PROBLEMS) from None

    return wrapper


def load_settings() -> Settings:
    """Settings from FLOWPORT_* variables; a bad value names the variable instead of a traceback."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"FLOWPORT_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise CliError(f"invalid configuration: {problems}", EXIT_USAGE) from None


def require_safe_keys(settings: Settings) -> None:
    """Stop before serving when a key is missing or weak in production, naming the variable and the fix."""
    from portal.auth.keys import UnsafeKeys, require_safe_keys as check

    try:
        check(settings)
    except UnsafeKeys as error:
        raise CliError(str(error), EXIT_USAGE) from None


def safe_url(url: str) -> str:
    """The database URL with its password replaced by ***, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def describe_database_error(error: BaseException) -> str:
    """The first line of what the driver said, without SQLAlchemy's boilerplate."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else original.__class__.__name__


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Report an unreachable or misconfigured database as one line naming the URL."""
    try:
        yield
    except (ArgumentError, NoSuchModuleError) as error:
        raise CliError(f"the database URL {safe_url(url)} is not usable: {error}") from None
    except SQLAlchemyError as error:
        raise CliError(f"database {safe_url(url)} failed: {describe_database_error(error)}") from None


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """An engine for the configured database, disposed afterwards; errors become CliError."""
    from portal.db import build_engine

    url = settings.resolved_database_url
    if settings.database_url is None:
        # The default SQLite file lives in the data directory, which may not exist yet.
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CliError(f"cannot create the data directory {settings.data_dir}: {error.strerror}") from None
    with database_errors(url):
        engine = build_engine(url)
    try:
        with database_errors(url):
            yield engine
    finally:
        engine.dispose()


def require_current_schema(engine: Engine, settings: Settings) -> None:
    """Stop with a hint to run `flowport migrate` when the schema is missing or old."""
    from portal.migrate import is_current

    with database_errors(settings.resolved_database_url):
        current = is_current(engine)
    if not current:
        raise CliError(
            f"the database {safe_url(settings.resolved_database_url)} has no Flowport schema "
            "or an old one; run `flowport migrate` first"
        )


def http_client(settings: Settings):  # noqa: ANN201 - httpx imported lazily
    """The HTTP client URL locations are read with, guarded like the app's (see portal/net)."""
    from portal.net import guarded_client

    return guarded_client(settings.url_timeout, settings.url_allow_private_networks)
