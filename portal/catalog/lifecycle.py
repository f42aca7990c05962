"""Catalog start-up and shutdown: load the configured folders, run the periodic refresher."""

from __future__ import annotations

from fastapi import FastAPI


async def on_startup(app: FastAPI) -> None:
    """Register the configured catalog folders and start refreshing (filled in by the ingestion work)."""
    app.state.catalog_refresher = None


async def on_shutdown(app: FastAPI) -> None:
    refresher = getattr(app.state, "catalog_refresher", None)
    if refresher is not None:
        refresher.stop()
