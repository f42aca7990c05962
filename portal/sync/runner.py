"""Run a plugin's pull sync for one connection: claim it, walk its pages, commit page by page,
stop cleanly on budget or long rate limits, and record how it went. Also the worker's schedule."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from portal.flow.record_checks import split_valid
from portal.flow.writer import record_key
from portal.logging_setup import get_logger
from portal.net import AsyncGuardedTransport
from portal.plugins.contract import FlowPlugin, SyncNotSupported
from portal.plugins.registry import PluginRegistry
from portal.sync import store
from portal.sync.client import Clock, Sleep, SyncClient, SyncStopped
from portal.sync.scope import scoped_lookup
from portal.sync.state import SyncPage, SyncState

log = get_logger(__name__)
DEFAULT_REQUEST_BUDGET = 2000
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Called after every committed page: (resource, records in the page).
PageListener = Callable[[str, int], None]
# Items skipped in a run that are named in its report and last_error (the rest are only counted).
NAMED_SKIPPED_ITEMS = 3
# Plugin instances (by id, with a weak reference to tell a reused id apart) that said they cannot pull as
# configured; the schedule leaves them alone until the connection is reconfigured (a new instance).
_cannot_pull: dict[int, weakref.ref] = {}


def _said_cannot_pull(plugin: FlowPlugin) -> bool:
    known = _cannot_pull.get(id(plugin))
    return known is not None and known() is plugin


@dataclass
class SyncReport:
    """What one connection's run did."""

    source: str
    connection: str
    pages: int = 0
    records: int = 0
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    skipped: str | None = None  # why the run did not start (another worker holds it, no pull configured)
    stopped: str | None = None  # why it stopped early but cleanly (budget, long rate limit)
    error: str | None = None
    pages_by_resource: dict[str, int] = field(default_factory=dict)
    # Items the tool sent that could not be read (e.g. malformed events): reported, never fatal.
    skipped_items: list[str] = field(default_factory=list)
    # Every record the run wrote, by kind and id: a pull request stored by its list page and again by its
    # commits page is one changed record, not two (`records` counts these).
    written: set[tuple] = field(default_factory=set, repr=False)

    def skipped_note(self) -> str | None:
        """`skipped 2 unreadable items: …` naming the first few, or None."""
        if not self.skipped_items:
            return None
        count = len(self.skipped_items)
        named = "; ".join(self.skipped_items[:NAMED_SKIPPED_ITEMS])
        more = f"; and {count - NAMED_SKIPPED_ITEMS} more" if count > NAMED_SKIPPED_ITEMS else ""
        return f"skipped {count} unreadable item{'s' if count != 1 else ''}: {named}{more}"

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def supports_sync(plugin: FlowPlugin) -> bool:
    """True when the plugin implements the pull-sync hook."""
    return type(plugin).sync is not FlowPlugin.sync


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def sync_connection(
    engine: Engine,
    plugin: FlowPlugin,
    *,
    full: bool = False,
    budget: int | None = DEFAULT_REQUEST_BUDGET,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.time,
    rng: random.Random | None = None,
    on_page: PageListener | None = None,
    allow_private_networks: Sequence[str] = (),
) -> SyncReport:
    """Sync one connection; never raises for the tool's failures, which land in the report and state.

    Without a `transport` (tests pass a mock) requests go through portal/net's guard: a tool's URL, or a
    redirect, that resolves to a private address fails unless FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS holds it.
    """
    source, connection = plugin.name, plugin.config.name
    report = SyncReport(source=source, connection=connection)
    owner = _owner()
    if not store.claim(engine, source, connection, owner):
        report.skipped = "another worker is syncing this connection"
        return report
    saved = store.load(engine, source, connection)
    # A connection with its own list of repositories/projects/services syncs only those.
    state = SyncState(source=source, connection=connection, full=full,
                      cursors={} if full else saved.cursors,
                      linked=scoped_lookup(plugin.config, lambda annotation: store.linked_values(engine, annotation)))
    try:
        guarded = transport or AsyncGuardedTransport(allow_private_networks)
        async with httpx.AsyncClient(transport=guarded, timeout=REQUEST_TIMEOUT, follow_redirects=True) as http:
            client = SyncClient(http, budget=budget, validators=saved.validators, conditional=not full,
                                sleep=sleep, clock=clock, rng=rng)
            try:
                async for page in plugin.sync(client, state, full):
                    _commit(engine, source, connection, owner, page, client, state, report, on_page)
            except SyncNotSupported as reason:
                report.skipped = str(reason)
                _cannot_pull[id(plugin)] = weakref.ref(plugin, lambda _, key=id(plugin): _cannot_pull.pop(key, None))
            except SyncStopped as stop:
                report.stopped = str(stop)
                log.info("sync stopped early", source=source, connection=connection, reason=report.stopped)
            except Exception as error:  # noqa: BLE001 - the tool's failure is reported, never fatal
                report.error = f"{error.__class__.__name__}: {error}"
                log.warning("sync failed", source=source, connection=connection, error=report.error)
            finally:
                report.requests, report.not_modified = client.stats.requests, client.stats.not_modified
                report.retries = client.stats.retries
        if report.skipped is None:
            stopped = f"stopped early: {report.stopped}" if report.stopped else None
            store.finish(engine, source, connection, requests=report.requests, not_modified=report.not_modified,
                         records=report.records, error=report.error or stopped or report.skipped_note(),
                         succeeded=report.error is None and report.stopped is None)
    finally:
        store.release(engine, source, connection, owner)
    return report


def _commit(engine: Engine, source: str, connection: str, owner: str, page: SyncPage, client: SyncClient,
            state: SyncState, report: SyncReport, on_page: PageListener | None) -> None:
    records, unusable = split_valid(page.records)
    if unusable:
        # A value no table can hold skips that item alone; the rest of the page is stored.
        page = replace(page, records=records, skipped=[*page.skipped, *unusable])
    written = store.commit_page(engine, source, connection, owner, page, client.take_validators())
    # Later pages of this run read the cursor the plugin just committed.
    if page.cursor is not None:
        state.cursors[page.resource] = page.cursor
    report.pages += 1
    report.written.update(record_key(record) for record in page.records)
    report.records = len(report.written)
    if page.skipped:
        report.skipped_items += page.skipped
        log.warning("sync skipped unreadable items", source=source, connection=connection, items=page.skipped)
    report.pages_by_resource[page.resource] = report.pages_by_resource.get(page.resource, 0) + 1
    if on_page:
        on_page(page.resource, written)


def sync_targets(registry: PluginRegistry, plugin: str | None = None,
                 connection: str | None = None) -> list[FlowPlugin]:
    """Configured connections whose plugin can pull, optionally narrowed to one plugin/connection."""
    targets = []
    for name, connection_name, instance in registry.connections():
        if (plugin and name != plugin) or (connection and connection_name != connection):
            continue
        if supports_sync(instance):
            targets.append(instance)
    return targets


def run_due_syncs(engine: Engine, registry: PluginRegistry, settings, *,  # noqa: ANN001
                  transport: httpx.AsyncBaseTransport | None = None, now: datetime | None = None,
                  sleep: Sleep = asyncio.sleep) -> list[SyncReport]:
    """Sync every connection whose last sync is older than FLOWPORT_SYNC_INTERVAL (worker loop)."""
    now = now or datetime.now(UTC)
    interval = timedelta(seconds=settings.sync_interval)
    last = store.last_sync_times(engine)
    reports = []
    for plugin in sync_targets(registry):
        if _said_cannot_pull(plugin):
            continue
        previous = last.get((plugin.name, plugin.config.name))
        if previous is not None and now - previous < interval:
            continue
        report = asyncio.run(sync_connection(
            engine, plugin, transport=transport, sleep=sleep,
            allow_private_networks=getattr(settings, "url_allow_private_networks", ())))
        reports.append(report)
    return reports
