"""Scheduled pull sync: a thread that syncs each connection once FLOWPORT_SYNC_INTERVAL has passed."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from portal.logging_setup import get_logger
from portal.plugins.registry import PluginRegistry
from portal.sync.runner import run_due_syncs

log = get_logger(__name__)
CHECK_SECONDS = 60.0


class SyncScheduler:
    """Checks every minute which connections are due; a failing tool is logged, never fatal."""

    def __init__(self, engine: Engine, registry: PluginRegistry, settings, check_seconds: float = CHECK_SECONDS):  # noqa: ANN001
        self.engine, self.registry, self.settings = engine, registry, settings
        self.check_seconds = check_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SyncScheduler:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="flowport-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> int:
        """Sync what is due now; returns how many connections were synced."""
        try:
            reports = run_due_syncs(self.engine, self.registry, self.settings)
        except Exception:  # noqa: BLE001 - the schedule outlives any one failure
            log.exception("scheduled sync failed")
            return 0
        for report in reports:
            log.info("scheduled sync", report=str(report))
        return len(reports)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.run_once()
            self._stopping.wait(self.check_seconds)
