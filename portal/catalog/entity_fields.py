"""The `fields` parameter: keep only the named dotted paths of each entity, like Backstage does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from portal.errors import CatalogApiError

Projection = Callable[[dict], dict]


def parse_fields_params(values: Iterable[str] | None) -> list[str] | None:
    """`fields=metadata.name,kind&fields=spec` -> ["metadata.name", "kind", "spec"]; None when absent."""
    fields = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    if any("[" in field for field in fields):
        raise CatalogApiError(400, "Invalid fields, array type fields are not supported")
    return fields or None


def _get(entity: dict, path: list[str]) -> tuple[bool, object]:
    current: object = entity
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def project(entity: dict, fields: list[str] | None) -> dict:
    """A copy of `entity` holding only `fields` (whole subtrees are kept under a named path)."""
    if not fields:
        return entity
    output: dict = {}
    for field in fields:
        path = field.split(".")
        found, value = _get(entity, path)
        if not found:
            continue
        target = output
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return output
