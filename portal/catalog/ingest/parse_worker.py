"""The parsing worker process of a large tree read (started by parse_ahead; not imported by the portal).

Started with two arguments, the byte and alias limits of the read. Protocol, binary over stdin and stdout, in order: the reader sends a path as a 4-byte big-endian
length and its file-system bytes (length 0 or end of input ends the worker); the worker answers each path with
an 8-byte length and a pickle of (text, documents, syntax problems), or of None when it cannot read
the file (the reader then reads it itself and reports why). Answers are sent from a second thread so
the worker parses the next file while the reader has not yet taken the last answer.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import sys
import threading
from typing import BinaryIO

from portal.catalog.ingest.limits import ReadLimits
from portal.catalog.ingest.sources import read_file
from portal.catalog.ingest.yaml_documents import parse_documents

_END = object()


def answer(path: str, limits: ReadLimits) -> bytes:
    outcome = read_file(path, limits.max_bytes)
    result = None if outcome.content is None else (
        outcome.content, *parse_documents(outcome.content, limits.max_alias_nodes))
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def serve(requests: BinaryIO, answers: BinaryIO, limits: ReadLimits | None = None) -> None:
    limits = limits or ReadLimits()
    outgoing: queue.Queue = queue.Queue()

    def send() -> None:
        try:
            while (payload := outgoing.get()) is not _END:
                answers.write(struct.pack(">Q", len(payload)))
                answers.write(payload)
                answers.flush()
        except (BrokenPipeError, OSError):
            pass  # the reader went away

    sender = threading.Thread(target=send, name="answers", daemon=True)
    sender.start()
    try:
        while len(header := requests.read(4)) == 4 and (size := struct.unpack(">I", header)[0]):
            outgoing.put(answer(os.fsdecode(requests.read(size)), limits))
    finally:
        outgoing.put(_END)
        sender.join()


if __name__ == "__main__":
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers may reach the protocol stream
    # Arguments: the byte and alias limits of the read (parse_ahead passes them).
    max_bytes, max_alias_nodes = (int(value) for value in sys.argv[1:3]) if len(sys.argv) >= 3 else (
        ReadLimits.max_bytes, ReadLimits.max_alias_nodes)
    serve(sys.stdin.buffer, protocol_out, ReadLimits(max_bytes=max_bytes, max_alias_nodes=max_alias_nodes))
