"""The in-process inbox worker: a thread that keeps normalizing due deliveries until stopped."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from portal.background import BackgroundLoop
from portal.logging_setup import get_logger
from portal.plugins.registry import PluginRegistry
from portal.webhooks.processing import process_batch

log = get_logger(__name__)
IDLE_SECONDS = 0.5


class InboxWorker(BackgroundLoop):
    """Loops process_batch: a full batch means more may be waiting, so only a partial one pauses."""

    thread_name = "flowport-inbox-worker"

    def __init__(self, engine: Engine, registry: PluginRegistry, idle_seconds: float = IDLE_SECONDS,
                 batch_size: int = 200) -> None:
        super().__init__()
        self.engine = engine
        self.registry = registry
        self.idle_seconds = idle_seconds
        self.batch_size = batch_size

    def round(self) -> int:
        """Process one batch; returns how many deliveries were claimed."""
        report = process_batch(self.engine, self.registry, self.batch_size)
        if report.claimed:
            log.info("inbox batch", claimed=report.claimed, processed=report.processed, failed=report.failed,
                     parked=report.parked, records=report.records)
        return report.claimed

    def pause_after(self, done: int) -> float:
        return 0.0 if done >= self.batch_size else self.idle_seconds
