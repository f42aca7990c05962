"""Read a location tree in a background thread and hand its entities over while it is still reading.

Parsing YAML and writing rows each take about half of a large import. Parsing holds the GIL; the
database's work does not (SQLite's C code, PostgreSQL's own process). Reading in one thread while
the caller writes in another keeps both cores of a small machine busy.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from portal.catalog.ingest.reader import ReadEntity, TreeRead, TreeReader

_DONE = object()
# Batches read ahead of the writer at most: bounds memory when writing is the slower side.
_READ_AHEAD = 8


class _Cancelled(Exception):
    """The writer stopped early (it failed); the reading thread gives up too."""


class StreamedRead:
    """Entities of one tree in batches as they are read; the whole TreeRead once reading ends.

    Location entities are not streamed: a target they name may fail later in the read, and that
    problem belongs in the Location's status. They stay in the TreeRead for the caller's last write.
    """

    def __init__(self, tree_reader: TreeReader, root_key: str, batch_size: int, threaded: bool = True) -> None:
        self._threaded = threaded
        self._tree_reader = tree_reader
        self._root_key = root_key
        self._batch_size = batch_size
        self._queue: queue.Queue = queue.Queue(maxsize=_READ_AHEAD)
        self._cancelled = threading.Event()
        self._tree: TreeRead | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="catalog-read", daemon=True)

    def batches(self) -> Iterator[list[ReadEntity]]:
        """Batches of streamed entities, in reading order; raises what the reading thread raised.

        Unthreaded, reading and writing take turns in the caller's thread, a source at a time: on
        SQLite, whose inserts give up and retake the GIL row by row, a busy reading thread slows
        writing more than it saves (measured: CPU time equalled wall time either way, the serial order
        was fastest). Large trees still overlap, with their parsing in a worker process (parse_ahead).
        """
        if not self._threaded:
            yield from self._batches_in_turn()
            return
        self._thread.start()
        finished = False
        try:
            while (batch := self._queue.get()) is not _DONE:
                yield batch
            finished = True
        finally:
            if not finished:
                self._cancelled.set()
                while self._queue.get() is not _DONE:  # unblock the reader so it can stop
                    pass
            self._thread.join()
        if self._error is not None:
            raise self._error

    def _batches_in_turn(self) -> Iterator[list[ReadEntity]]:
        batch: list[ReadEntity] = []

        def take(read: ReadEntity) -> None:
            if read.entity["kind"].lower() != "location":
                batch.append(read)

        self._tree_reader.on_entity = take
        for _source in self._tree_reader.read_sources(self._root_key):
            while len(batch) >= self._batch_size:
                yield batch[: self._batch_size]
                del batch[: self._batch_size]
        self._tree = self._tree_reader.result
        if batch:
            yield batch

    def tree(self) -> TreeRead:
        """Everything read (after `batches()` is exhausted)."""
        if self._tree is None:
            raise RuntimeError("the tree is complete only after every batch was taken")
        return self._tree

    def _read(self) -> None:
        batch: list[ReadEntity] = []

        def take(read: ReadEntity) -> None:
            if self._cancelled.is_set():
                raise _Cancelled
            if read.entity["kind"].lower() == "location":
                return
            batch.append(read)
            if len(batch) >= self._batch_size:
                self._queue.put(batch.copy())
                batch.clear()

        try:
            self._tree_reader.on_entity = take
            self._tree = self._tree_reader.read(self._root_key)
            if batch:
                self._queue.put(batch)
        except _Cancelled:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the writing thread, which raises it
            self._error = error
        finally:
            self._queue.put(_DONE)
