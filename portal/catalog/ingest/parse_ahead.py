"""Read and parse the next files of a large location tree in a worker process while this one handles the
current file.

Turning YAML into Python data is a fifth of a large import, and it holds the GIL: a thread cannot
overlap it with writing (SQLite's inserts retake the GIL row by row), but another process can. The
worker (parse_worker) reads each file itself and answers with its text and parsed documents through
a pipe that the reading thread drains when it reaches that file: no helper thread in this process
competes for the GIL (a ProcessPoolExecutor's result thread did).

Small trees are parsed in-process: the worker starts only once the next few files to read add up to
`WORKER_THRESHOLD_BYTES`, so the demo catalog and the tests' small files never pay for one. Anything
that goes wrong with the worker (it cannot start, dies, stalls, or cannot read a file) leaves that
file, and for a broken worker the rest of the tree, to the ordinary read and parse in this process.

The worker is a fresh interpreter (`python -m portal.catalog.ingest.parse_worker`), not a
multiprocessing child: forking would copy a server's threads and locks mid-use, and multiprocessing's
other start methods run the parent's main script again in the child.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import portal
from portal.catalog.ingest.limits import ReadLimits
from portal.catalog.ingest.sources import split_key
from portal.catalog.ingest.yaml_documents import Document, SyntaxProblem

log = logging.getLogger(__name__)

# The next `_AHEAD` files holding about 3,000 descriptors of the benchmark's kind; a worker costs a fork.
WORKER_THRESHOLD_BYTES = 2 * 1024 * 1024
# Files sent ahead of the reader at most: bounds the memory of parsed documents waiting to be taken.
_AHEAD = 6
# A file the worker has not answered for this long is parsed here instead, and the worker stopped.
_STALLED_SECONDS = 120.0


class _WorkerFailed(Exception):
    pass


def _start_worker(limits: ReadLimits) -> subprocess.Popen:
    if not sys.executable:
        raise OSError("no Python interpreter to start")
    # The worker imports the portal from wherever this process did (a source checkout or site-packages).
    portal_root = str(Path(portal.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (portal_root, os.environ.get("PYTHONPATH", "")) if p)
    # Unbuffered pipes: the reader waits on the stream with select(), which a read buffer would fool.
    command = [sys.executable, "-m", "portal.catalog.ingest.parse_worker",
               str(limits.max_bytes), str(limits.max_alias_nodes)]
    return subprocess.Popen(command, bufsize=0,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})


class ParseAhead:
    """Sends the next file keys of a tree to a worker process and takes their results in turn.

    `take(key)` answers a key sent earlier with (text, documents, problems), or None when the caller
    should read and parse it the ordinary way. Use as a context manager: the worker stops with the
    tree's read, also when the read fails or is abandoned.
    """

    def __init__(self, threshold_bytes: int = WORKER_THRESHOLD_BYTES, limits: ReadLimits | None = None) -> None:
        self._threshold = threshold_bytes
        # The worker reads and parses under the same limits as this process.
        self._limits = limits or ReadLimits()
        self._worker: subprocess.Popen | None = None
        self._disabled = False
        self._sent: deque[str] = deque()
        self._received: dict[str, tuple[str, list[Document], list[SyntaxProblem]] | None] = {}

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop()

    def look_ahead(self, upcoming: Iterable[str]) -> None:
        """Send the next file keys of the queue (in reading order) to the worker, up to the limit."""
        if self._disabled:
            return
        waiting = len(self._sent) + len(self._received)
        files = [key for key in _first_files(upcoming, _AHEAD)
                 if key not in self._received and key not in self._sent][: max(0, _AHEAD - waiting)]
        if not files or (self._worker is None and not self._start_if_large(files)):
            return
        try:
            for key in files:
                path = os.fsencode(split_key(key)[1])  # file names need not be valid UTF-8
                self._write(struct.pack(">I", len(path)) + path)
                self._sent.append(key)
        except OSError as error:
            self._give_up(error)

    def take(self, key: str) -> tuple[str, list[Document], list[SyntaxProblem]] | None:
        """The file's text and parsed documents if the worker read it, else None."""
        if key not in self._received and key in self._sent:
            try:
                self._receive_through(key)
            except (_WorkerFailed, OSError, pickle.UnpicklingError, EOFError) as error:
                self._give_up(error)
                return None
        return self._received.pop(key, None)

    def _receive_through(self, key: str) -> None:
        # Answers come in the order the keys were sent; keep those of keys the reader skips ahead of.
        while self._sent:
            size = struct.unpack(">Q", self._read_exactly(8))[0]
            answer = pickle.loads(self._read_exactly(size))
            sent = self._sent.popleft()
            self._received[sent] = answer
            if sent == key:
                return

    def _read_exactly(self, size: int) -> bytes:
        stream = self._worker.stdout  # type: ignore[union-attr]
        chunks: list[bytes] = []
        while size:
            ready, _, _ = select.select([stream], [], [], _STALLED_SECONDS)
            if not ready:
                raise _WorkerFailed(f"no answer for {_STALLED_SECONDS:.0f} s")
            chunk = stream.read(size)  # type: ignore[union-attr]
            if not chunk:
                raise _WorkerFailed(f"the worker stopped (exit code {self._worker.poll()})")  # type: ignore[union-attr]
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _write(self, data: bytes) -> None:
        stream = self._worker.stdin  # type: ignore[union-attr]
        while data:
            data = data[stream.write(data):]  # type: ignore[union-attr]

    def _start_if_large(self, files: list[str]) -> bool:
        waiting = 0
        for key in files:
            try:
                waiting += os.path.getsize(split_key(key)[1])
            except OSError:
                continue  # the ordinary read reports it
        if waiting < self._threshold:
            return False
        try:
            self._worker = _start_worker(self._limits)
        except OSError as error:
            self._give_up(error)
            return False
        return True

    def _give_up(self, error: BaseException | str) -> None:
        if not self._disabled:
            log.warning("catalog read: parsing in this process from here on (parsing worker: %s)", error)
        self._disabled = True
        self._sent.clear()
        self._stop()

    def _stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        for stream in (worker.stdin, worker.stdout):
            try:
                stream.close()  # type: ignore[union-attr]  # end of input ends the worker; a pending answer gets EPIPE
            except OSError:
                pass
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _first_files(keys: Iterable[str], limit: int) -> list[str]:
    """The first `limit` keys naming files (not folders, not URLs)."""
    files: list[str] = []
    for key in keys:
        if len(files) >= limit:
            break
        type_, target = split_key(key)
        if type_ == "file" and not os.path.isdir(target):
            files.append(key)
    return files
