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


# Limits and offsets beyond this are refused: databases count rows in (at most) 64-bit integers, and
# the portal adds to the values it is given (one more row tells whether a next page exists).
MAX_INTEGER_PARAM = 2**31 - 1


def integer_param(params: QueryParams, name: str) -> int | None:
    """A single-valued whole-number parameter between 0 and MAX_INTEGER_PARAM."""
    text = string_param(params, name)
    if text is None or text == "":
        return None
    try:
        value = int(text) if len(text) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise CatalogApiError(400, f"Invalid {name}, '{text[:40]}' is not a number")
    if not 0 <= value <= MAX_INTEGER_PARAM:
        raise CatalogApiError(400, f"Invalid {name} {value}, it must be between 0 and {MAX_INTEGER_PARAM}")
    return value


def bool_param(params: QueryParams, name: str) -> bool:
    """A yes/no flag such as `dryRun=true` (true, yes, 1 and on count as yes)."""
    text = (string_param(params, name) or "").strip().lower()
    return text in ("true", "yes", "1", "on", "y")
