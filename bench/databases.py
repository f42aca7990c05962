"""Fresh, migrated benchmark databases: a SQLite file in a temp folder or a PostgreSQL database of our own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.db import build_engine, normalize_url
from portal.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class BenchDatabase:
    """A database to import into and serve from; `label` names it in the results."""

    label: str
    url: str
    server_version: str


def postgres_base_url() -> str:
    """The server to create the benchmark database on (FLOWPORT_BENCH_POSTGRES_URL overrides)."""
    return os.environ.get("FLOWPORT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def sqlite_database(data_dir: Path) -> Iterator[BenchDatabase]:
    """A migrated SQLite file (WAL, as the embedded default runs) inside `data_dir`."""
    import sqlite3

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'flowport.db'}"
    _migrate(url)
    yield BenchDatabase("sqlite", url, f"SQLite {sqlite3.sqlite_version}")


@contextmanager
def postgres_database() -> Iterator[BenchDatabase]:
    """A migrated database `flowport_bench_<pid>` on the PostgreSQL server, dropped afterwards."""
    base = make_url(normalize_url(postgres_base_url()))
    name = f"flowport_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield BenchDatabase("postgres", url, f"PostgreSQL {version}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = build_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def vacuum_analyze(url: str) -> None:
    """VACUUM ANALYZE a PostgreSQL database, as autovacuum does shortly after a bulk load.

    Without it the first minutes after an import run on empty planner statistics and an unset
    visibility map (no index-only scans), which is not the steady state a portal serves from.
    """
    engine = build_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
