"""Database engine and the request-scoped session that owns the transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        # Each pooled connection keeps its own page cache (cache_size below): a bounded pool keeps
        # memory bounded under concurrent load.
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(pool_size=4, max_overflow=4, pool_timeout=30)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection; the OS caches the rest
            cursor.close()

        return engine
    # No server-side prepared statements: after five runs PostgreSQL would switch a prepared catalog
    # query to a generic plan, which is orders of magnitude slower for skewed search-index values.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"prepare_threshold": None})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def sqlite_pragma_for_now(connection: Connection, name: str, value: int) -> Iterator[None]:
    """Set a SQLite pragma on this connection for the block, then restore it: the pool hands the
    connection on to requests that expect the settings of `build_engine`."""
    previous = connection.exec_driver_sql(f"PRAGMA {name}").scalar()
    connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA {name} = {int(previous)}")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route returns, rolled back if it raises."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def build_read_engine(url: str, engine: Engine) -> Engine:
    """The engine of read-only point reads (see ReadOnlyDatabase); SQLite shares the main engine.

    On PostgreSQL it is a small pool of its own, in autocommit (one statement needs no BEGIN/COMMIT)
    and without the pre-ping round trip: a read that meets a dropped connection is simply run again.
    Its statements are prepared on the server on first use (planning was a third of a by-name read's
    time there): unlike the search queries of the main engine, a lookup by a unique key has one
    plan whatever the key, so the generic plan PostgreSQL settles on is the right one."""
    if is_sqlite(engine):
        return engine
    return create_engine(normalize_url(url), pool_size=4, max_overflow=8, isolation_level="AUTOCOMMIT",
                         connect_args={"prepare_threshold": 0})


class ReadOnlyDatabase:
    """Runs one read-only unit of work on a pooled connection, in one worker-thread hop.

    The usual request session costs three thread hops (enter, route, exit) and a transaction; for the
    catalog's point reads that was more than the query. A read that finds its connection dropped
    (the database restarted) is retried once on a fresh one: it changes nothing, so that is safe."""

    def __init__(self, engine: Engine, session_engine: Engine | None = None) -> None:
        self.engine = engine
        # Reads of several statements that must agree run in a transaction on the main engine.
        self.session_engine = session_engine or engine

    async def run(self, work: Callable[[Connection], T]) -> T:
        return await run_in_threadpool(self.run_now, work)

    async def run_in_session(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in one read transaction (rolled back: it changes nothing), in one hop.

        For read-only routes of several statements (a page and its total, facets): the same snapshot
        as a request session, without its two extra thread hops."""
        return await run_in_threadpool(self._session_once, work)

    def _session_once(self, work: Callable[[Session], T]) -> T:
        with Session(self.session_engine, expire_on_commit=False) as session:
            return work(session)

    def run_now(self, work: Callable[[Connection], T]) -> T:
        try:
            return self._once(work)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._once(work)

    def _once(self, work: Callable[[Connection], T]) -> T:
        # Returning the connection to the pool ends its read transaction (a rollback).
        with self.engine.connect() as connection:
            return work(connection)


async def read_only_database(request: Request) -> ReadOnlyDatabase:
    # async so FastAPI does not spend a thread hop on handing over an object.
    return request.app.state.read_database


ReadOnlyDep = Annotated[ReadOnlyDatabase, Depends(read_only_database)]
