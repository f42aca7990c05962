"""Checkpoints of a SQLite WAL from a thread of their own, so the inbox writer's commits never run one."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from portal.logging_setup import get_logger

# Seconds between two checkpoints while deliveries keep arriving.
CHECKPOINT_PAUSE = 0.02
# WAL pages (4 KiB) after which the WAL is made to start over (see WalCheckpointer).
RESTART_FRAMES = 8192
# Milliseconds a locked round waits for another connection's write transaction before it gives up.
LOCK_WAIT_MS = 50
log = get_logger(__name__)


def checkpoints_needed(engine: Engine) -> bool:
    """A SQLite database in a file has a WAL to checkpoint; an in-memory one or PostgreSQL has not."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


class WalCheckpointer:
    """Checkpoints the WAL after writes, at most once per `pause` seconds, for a writer whose
    connection has `wal_autocheckpoint=0` and which holds `write_lock` around each transaction.

    A PASSIVE checkpoint copies committed pages into the database file without waiting for writers
    or blocking them. But SQLite only starts the WAL over when a write begins after a checkpoint that
    left nothing behind, which never happens while commits keep coming, so the file would grow
    without end. Once the WAL holds `restart_frames` pages, a last PASSIVE round therefore runs while
    no one can write: this process's writer waits on `write_lock`, writers in other processes (a
    second server worker, `flowport worker`) on the database's own write lock, which a second
    connection holds meanwhile. Two unlocked rounds just before leave only a few pages to copy, and
    the next transaction starts the WAL from the beginning.
    """

    def __init__(self, engine: Engine, write_lock: threading.Lock, pause: float = CHECKPOINT_PAUSE,
                 restart_frames: int = RESTART_FRAMES) -> None:
        self.engine, self.write_lock, self.pause, self.restart_frames = engine, write_lock, pause, restart_frames
        self.last: tuple[int, int, int] | None = None  # (busy, pages in the WAL, pages checkpointed)
        self.restarts = 0  # locked rounds, each letting the WAL start over
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: PoolProxiedConnection | None = None  # runs the checkpoints
        self._holder: PoolProxiedConnection | None = None  # holds the write lock during a locked round

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="inbox-wal-checkpointer", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Something was committed: checkpoint soon."""
        self._wake.set()

    def stop(self) -> None:
        """Checkpoint once more and stop the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join()

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                self._round()
                if self._stopping.is_set():
                    break
                self._stopping.wait(self.pause)
        finally:
            self._close()

    def _round(self) -> None:
        """One PASSIVE checkpoint; and the locked one when the WAL should start over."""
        try:
            if self._connection is None:
                self._connection = self.engine.raw_connection()
            self.last = _checkpoint(self._connection)
            if self.last[1] >= self.restart_frames:
                _checkpoint(self._connection)  # what was committed during the first round
                self._locked_round()
        except Exception as error:  # noqa: BLE001 - the next round tries again; the WAL only grows meanwhile
            log.warning("checkpointing the SQLite WAL failed", error=f"{type(error).__name__}: {error}")
            self._close()

    def _locked_round(self) -> None:
        if self._holder is None:
            self._holder = self.engine.raw_connection()
            # Another process's long transaction must not hold up this process's writer: try later.
            self._holder.driver_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        holder = self._holder.driver_connection
        with self.write_lock:
            try:
                holder.execute("BEGIN IMMEDIATE")
            except self.engine.dialect.loaded_dbapi.OperationalError:
                return  # busy: some other writer is in a transaction
            try:
                self.last = _checkpoint(self._connection)
            finally:
                holder.rollback()
        self.restarts += 1

    def _close(self) -> None:
        for name in ("_connection", "_holder"):
            connection = getattr(self, name)
            setattr(self, name, None)
            if connection is not None:
                try:
                    connection.invalidate()  # the holder's busy timeout stays out of the pool
                except Exception as error:  # noqa: BLE001
                    log.warning("closing a checkpoint connection failed", error=str(error))


def _checkpoint(connection: PoolProxiedConnection) -> tuple[int, int, int]:
    return tuple(connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
