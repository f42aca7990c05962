"""Shared fixtures: a migrated database per test worker (SQLite, or PostgreSQL when
FLOWPORT_TEST_DATABASE_URL is set), emptied after every test, and apps built from settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

import portal.models_registry  # noqa: F401
from portal.app import create_app
from portal.db import build_engine, normalize_url
from portal.migrate import upgrade
from portal.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
if not FIXTURES.is_dir():
    FIXTURES = Path(os.environ.get("FLOWPORT_SHARED_FIXTURES", "/work/shared/fixtures"))


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_database(base_url: str, purpose: str = "") -> str:
    """Create (or recreate) a database of this worker's own on the test server."""
    url = make_url(normalize_url(base_url))
    # The pid keeps concurrent test runs on one server (several developers, CI) apart.
    name = f"flowport_test_{_worker_id()}_{os.getpid()}{purpose}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("FLOWPORT_TEST_DATABASE_URL")
    if base:
        url = _postgres_database(base)
        yield url
        _drop_postgres_database(url)
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'flowport.db'}"


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind, not migrated, for tests that walk migrations themselves."""
    base = os.environ.get("FLOWPORT_TEST_DATABASE_URL")
    if base:
        url = _postgres_database(base, "_scratch")
        yield url
        _drop_postgres_database(url)
        return
    yield f"sqlite:///{tmp_path / 'scratch.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The worker's database, emptied after the test so tests never see each other's rows."""
    yield migrated_engine
    _empty_all_tables(migrated_engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path, engine: Engine) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path / "data",
        catalog_paths=[],
        template_paths=[],
        run_worker=False,
        url_allow_hosts=["*"],
        api_rate_limit=0,  # tests/web/test_request_guards.py switches it on
    )


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture(autouse=True)
def _dispose_app_engines(monkeypatch):
    """Close the pools of every app a test built. Apps whose lifespan never ran (most API tests) would
    otherwise keep their PostgreSQL connections until garbage collection, and two test workers reached
    80 of the server's 100 connections."""
    import portal.app

    built = []

    def recording(build):  # noqa: ANN001, ANN202
        def build_and_record(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            engine = build(*args, **kwargs)
            built.append(engine)
            return engine
        return build_and_record

    monkeypatch.setattr(portal.app, "build_engine", recording(portal.app.build_engine))
    monkeypatch.setattr(portal.app, "build_read_engine", recording(portal.app.build_read_engine))
    yield
    for engine in built:
        engine.dispose()


@pytest.fixture
def client(app) -> Iterator:
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client
