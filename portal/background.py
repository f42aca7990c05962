"""One shape for every background job (inbox worker, sync schedule, catalog refresher):
a daemon thread that repeats a round until stopped, where a failed round is logged, never fatal."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from portal.logging_setup import get_logger

log = get_logger(__name__)
# After an unexpected error (database down, …) wait at least this long so the log is not flooded.
ERROR_PAUSE_SECONDS = 5.0


class BackgroundLoop(ABC):
    """Subclasses implement `round()` (returns how much work it did) and `pause_after(done)` (seconds)."""

    thread_name = "flowport-background"
    # True: start-up just did this work, so the first round waits one pause.
    wait_first = False

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def round(self) -> int:
        """Do one unit of work; return how much was done."""

    @abstractmethod
    def pause_after(self, done: int) -> float:
        """Seconds to wait before the next round, given what this round did."""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self):  # noqa: ANN201 - returns self for chaining
        """Start the loop in a daemon thread (a stuck database must not keep the process alive)."""
        if not self.running:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to finish its round and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> int:
        """One round; an exception is logged and counts as no work done."""
        try:
            return self.round()
        except Exception:  # noqa: BLE001 - the loop outlives any one failure
            log.exception("background round failed", job=self.thread_name)
            self._stopping.wait(ERROR_PAUSE_SECONDS)
            return 0

    def _loop(self) -> None:
        if self.wait_first and self._stopping.wait(self.pause_after(0)):
            return
        while not self._stopping.is_set():
            done = self.run_once()
            self._stopping.wait(self.pause_after(done))
