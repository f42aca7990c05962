"""Table statistics for SQLite's query planner.

Without statistics SQLite guesses which index serves a query, and for the requests table it guessed
wrong: "ideas to triage" (`kind`, `stage`, `product_ref`) scanned every idea through the `kind` index
instead of seeking the (product, stage) index — 20 ms instead of 1 ms at 50,000 requests (bench/
requests_load.py). `ANALYZE` with an analysis limit samples each index instead of reading it whole, so
it costs milliseconds even with a million flow records, and readers go on while it runs (WAL).
PostgreSQL keeps its own statistics (autovacuum analyzes changed tables), so nothing is done there.
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from portal.logging_setup import get_logger

log = get_logger(__name__)
# Rows sampled per index: enough to tell a selective index from an unselective one.
ANALYSIS_LIMIT = 1000
# How often a long-running portal samples again as its tables grow.
REFRESH_SECONDS = 6 * 3600


def refresh_planner_statistics(engine: Engine) -> bool:
    """Sample every table's indexes on SQLite (True); nothing on other databases (False)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    # A SQLite connection reads the statistics when it opens; pooled connections would plan with the
    # old ones. Disposing the pool lets each open afresh (connections in use finish their work first).
    engine.dispose()
    return True


class StatisticsSchedule:
    """Remembers when statistics were last refreshed, so a periodic job refreshes them every few hours."""

    def __init__(self, engine: Engine, every_seconds: float = REFRESH_SECONDS, clock=time.monotonic) -> None:  # noqa: ANN001
        self.engine = engine
        self.every_seconds = every_seconds
        self.clock = clock
        self.last_run: float | None = None

    def refresh_if_due(self) -> bool:
        now = self.clock()
        if self.last_run is not None and now - self.last_run < self.every_seconds:
            return False
        self.last_run = now
        try:
            return refresh_planner_statistics(self.engine)
        except Exception:  # noqa: BLE001 - statistics are an optimisation; never fail the job over them
            log.exception("refreshing the query planner's statistics failed")
            return False
