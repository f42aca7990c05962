"""Helpers shared by the webhook tests: read stored rows, post deliveries and run the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.webhooks import processing


def all_rows(engine, model) -> list:  # noqa: ANN001
    """Every row of a table, read through a connection of its own (so only committed rows)."""
    with Session(engine) as session:
        return list(session.execute(select(model)).scalars().all())


def at(text: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def post_and_process(app, path: str, deliveries: Iterable[tuple[bytes, dict]]) -> processing.ProcessReport:  # noqa: ANN001
    """POST each (body, headers) to `path`, expect a 202, then run the worker over the inbox."""
    with TestClient(app) as client:
        for body, headers in deliveries:
            response = client.post(path, content=body, headers={"Content-Type": "application/json", **headers})
            assert response.status_code == 202, response.text
    return processing.process_all(app.state.engine, app.state.plugins)


def run_async(coroutine):  # noqa: ANN001, ANN201
    """asyncio.run in a thread of its own: the browser tests keep Playwright's event loop running in
    the test thread for the rest of the session, and asyncio.run refuses to nest."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
