"""Cheap checks of hostile input before any route sees it: NUL characters and deeply nested JSON."""

from __future__ import annotations

import re

# Deeper JSON than this is refused: Python's parser recurses per level and fails near 1,000, and no
# request to the portal nests anywhere near this deep.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
# `\u0000` escapes a NUL unless its backslash is itself escaped (`\\u0000` is the text "\u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def url_has_nul(path: str, query_string: bytes) -> bool:
    """A NUL in the path or the query (encoded or raw): PostgreSQL cannot store or compare it."""
    return "\x00" in path or b"%00" in query_string or b"\x00" in query_string


def form_has_nul(body: bytes) -> bool:
    """A NUL in an urlencoded or multipart form."""
    return b"%00" in body or b"\x00" in body


def json_has_nul(body: bytes) -> bool:
    """A NUL, raw or as a `\\u0000` escape, anywhere in a JSON body."""
    return b"\x00" in body or (b"u0000" in body.lower() and _NUL_ESCAPE.search(body) is not None)


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
