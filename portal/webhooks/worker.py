"""The in-process inbox worker: a thread that keeps normalizing due deliveries until stopped."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from portal.logging_setup import get_logger
from portal.plugins.registry import PluginRegistry
from portal.webhooks.processing import process_batch

log = get_logger(__name__)
IDLE_SECONDS = 0.5
# After an unexpected error (database down, …) wait longer so the log is not flooded.
ERROR_PAUSE_SECONDS = 5.0


class InboxWorker:
    """Loops process_batch; sleeps briefly when nothing is due; an error is logged, never fatal."""

    def __init__(self, engine: Engine, registry: PluginRegistry, idle_seconds: float = IDLE_SECONDS,
                 batch_size: int = 200) -> None:
        self.engine = engine
        self.registry = registry
        self.idle_seconds = idle_seconds
        self.batch_size = batch_size
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> InboxWorker:
        """Start the loop in a daemon thread (a stuck database must not keep the process alive)."""
        if self.running:
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name="flowport-inbox-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to finish its batch and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> int:
        """Process one batch; returns how many deliveries were claimed (0 after an error)."""
        try:
            report = process_batch(self.engine, self.registry, self.batch_size)
        except Exception:  # noqa: BLE001 - the worker outlives any one failure
            log.exception("inbox batch failed; retrying shortly")
            self._stopping.wait(ERROR_PAUSE_SECONDS)
            return 0
        if report.claimed:
            log.info("inbox batch", claimed=report.claimed, processed=report.processed, failed=report.failed,
                     parked=report.parked, records=report.records)
        return report.claimed

    def run(self) -> None:
        """The loop: a full batch means more may be waiting, so only an empty or partial one sleeps."""
        while not self._stopping.is_set():
            if self.run_once() < self.batch_size:
                self._stopping.wait(self.idle_seconds)
