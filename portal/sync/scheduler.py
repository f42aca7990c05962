"""Scheduled pull sync: a thread that syncs each connection once FLOWPORT_SYNC_INTERVAL has passed."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from portal.background import BackgroundLoop
from portal.logging_setup import get_logger
from portal.plugins.registry import PluginRegistry
from portal.sync.runner import run_due_syncs

log = get_logger(__name__)
CHECK_SECONDS = 60.0


class SyncScheduler(BackgroundLoop):
    """Checks every minute which connections are due; a failing tool is logged, never fatal."""

    thread_name = "flowport-sync"

    def __init__(self, engine: Engine, registry: PluginRegistry, settings, check_seconds: float = CHECK_SECONDS):  # noqa: ANN001
        super().__init__()
        self.engine, self.registry, self.settings = engine, registry, settings
        self.check_seconds = check_seconds

    def round(self) -> int:
        """Sync what is due now; returns how many connections were synced."""
        reports = run_due_syncs(self.engine, self.registry, self.settings)
        for report in reports:
            log.info("scheduled sync", report=str(report))
        return len(reports)

    def pause_after(self, done: int) -> float:
        return self.check_seconds
