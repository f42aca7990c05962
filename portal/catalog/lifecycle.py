"""Catalog start-up and shutdown: load the configured folders, run the periodic refresher."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from portal.catalog.ingest import CatalogRefresher, ensure_default_locations

log = logging.getLogger(__name__)


def load_default_locations(app: FastAPI) -> None:
    """Register and refresh the configured catalog and template paths in one committed job."""
    settings = app.state.settings
    with Session(app.state.engine, expire_on_commit=False) as session:
        try:
            reports = ensure_default_locations(session, settings, app.state.http)
            session.commit()
        except Exception:  # noqa: BLE001 - a broken catalog must not keep the portal from starting
            session.rollback()
            log.exception("loading the default catalog locations failed")
            return
    for report in reports:
        log.info("loaded %s: %d entities read, %d errors", report.target, report.read, len(report.errors))


async def on_startup(app: FastAPI) -> None:
    """Load the default locations (off the event loop), then start the periodic refresher."""
    app.state.catalog_refresher = None
    settings = app.state.settings
    if settings.catalog_paths or settings.template_paths:
        await run_in_threadpool(load_default_locations, app)
    if settings.run_worker and settings.catalog_refresh_interval > 0:
        refresher = CatalogRefresher(app.state.engine, settings, app.state.http, settings.catalog_refresh_interval)
        refresher.start()
        app.state.catalog_refresher = refresher


async def on_shutdown(app: FastAPI) -> None:
    refresher = getattr(app.state, "catalog_refresher", None)
    if refresher is not None:
        refresher.stop()
        app.state.catalog_refresher = None
