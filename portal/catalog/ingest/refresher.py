"""The periodic refresher: a background thread that re-reads every location on an interval."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.background import BackgroundLoop
from portal.planner_statistics import StatisticsSchedule
from portal.catalog.ingest.locations import refresh_location
from portal.catalog.models import CatalogLocation
from portal.settings import Settings

log = logging.getLogger(__name__)


def lock_key(location_id: str) -> str:
    return f"flowport.catalog.location:{location_id}"


def claim_location(session: Session, location_id: str) -> bool:
    """On PostgreSQL, take a transaction-scoped advisory lock so two workers never refresh one location.

    SQLite has a single writer anyway, so there is nothing to claim.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"), {"key": lock_key(location_id)}
    ).scalar())


def refresh_each_location(engine: Engine, settings: Settings, http: httpx.Client) -> int:
    """Refresh all locations, each in its own committed transaction; returns how many were refreshed.

    One broken location must not roll back the others, so the job owns one transaction per location.
    A location another worker is refreshing right now is skipped this round.
    """
    with Session(engine) as session:
        ids = session.execute(select(CatalogLocation.id).order_by(CatalogLocation.created_at)).scalars().all()
    succeeded = 0
    for location_id in ids:
        with Session(engine, expire_on_commit=False) as session:
            try:
                if not claim_location(session, location_id):
                    log.info("location %s is being refreshed by another worker; skipped", location_id)
                    continue
                report = refresh_location(session, settings, http, location_id)
                session.commit()
                succeeded += 1
                log.info("refreshed location %s: %d read, %d inserted, %d updated, %d orphaned, %d errors",
                         report.target, report.read, report.inserted, report.updated, report.orphaned,
                         len(report.errors))
            except Exception:  # noqa: BLE001 - a refresh failure is logged and retried next round
                session.rollback()
                log.exception("refreshing location %s failed", location_id)
    return succeeded


class CatalogRefresher(BackgroundLoop):
    """Runs refresh_each_location every `interval` seconds until stopped."""

    thread_name = "catalog-refresher"
    wait_first = True  # start-up has just loaded the default locations

    def __init__(self, engine: Engine, settings: Settings, http: httpx.Client, interval: float) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.http = http
        self.interval = interval
        # The refresher is the one periodic job every deployment runs (in `serve` and in `worker`), so
        # it also keeps SQLite's planner statistics current as the tables grow.
        self.statistics = StatisticsSchedule(engine)

    def round(self) -> int:
        """One refresh round; returns how many locations were refreshed."""
        refreshed = refresh_each_location(self.engine, self.settings, self.http)
        self.statistics.refresh_if_due()
        return refreshed

    def pause_after(self, done: int) -> float:
        return self.interval
