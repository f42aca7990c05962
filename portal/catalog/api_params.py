"""Reading catalog API parameters the way Backstage does, with 400 InputErrors that name the parameter."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body
from starlette.datastructures import QueryParams

from portal.errors import CatalogApiError

# A JSON object request body; anything else is answered with a 400 InputError.
JsonObject = Annotated[dict[str, Any], Body()]


def string_param(params: QueryParams, name: str) -> str | None:
    """A single-valued string parameter; given twice is an error."""
    values = params.getlist(name)
    if len(values) > 1:
        raise CatalogApiError(400, f"Invalid {name}, expected a single value but got {len(values)}")
    return values[0] if values else None


def integer_param(params: QueryParams, name: str) -> int | None:
    """A single-valued whole-number parameter."""
    text = string_param(params, name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise CatalogApiError(400, f"Invalid {name}, '{text}' is not a number") from None


def bool_param(params: QueryParams, name: str) -> bool:
    """A yes/no flag such as `dryRun=true` (true, yes, 1 and on count as yes)."""
    text = (string_param(params, name) or "").strip().lower()
    return text in ("true", "yes", "1", "on", "y")
