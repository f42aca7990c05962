"""Flatten an entity into lower-cased `key=value` rows, the way Backstage's search table does."""

from __future__ import annotations

from collections.abc import Iterator

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200
# Relations are queried from their own table; status is not part of the descriptor.
_SKIPPED_TOP_LEVEL = {"relations", "status"}


def _scalar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _walk(prefix: str, value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(f"{prefix}.{key}" if prefix else str(key), child)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(prefix, item)
            # Backstage also indexes string items as `<path>.<item>=true`, e.g. `metadata.tags.java`.
            if isinstance(item, str):
                yield f"{prefix}.{item}", True
    else:
        yield prefix, value


def search_rows(entity: dict) -> list[tuple[str, str | None, str | None]]:
    """`(key, value, original_value)` triples; keys and values lower-cased, long values kept as key-only."""
    rows: list[tuple[str, str | None, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    for top, child in entity.items():
        if top in _SKIPPED_TOP_LEVEL:
            continue
        for key, raw in _walk(str(top), child):
            key = key.lower()
            if len(key) > MAX_KEY_LENGTH:
                continue
            original = _scalar(raw)
            if original is not None and len(original) > MAX_VALUE_LENGTH:
                original = None
            value = original.lower() if original is not None else None
            if (key, value) in seen:
                continue
            seen.add((key, value))
            rows.append((key, value, original))
    return rows
