"""Backstage's legacy `GET /entities`: a plain JSON array, paged with offset/limit/after or streamed."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.catalog.api_params import MAX_INTEGER_PARAM, integer_param, string_param
from portal.catalog.entity_fields import parse_fields_params
from portal.catalog.query import EntityQuery, parse_filter_params, query_entities
from portal.errors import CatalogApiError

# Without a limit Backstage returns everything; we stream it in keyset batches instead of loading it all.
STREAM_BATCH = 500


def parse_legacy_order(values: list[str]) -> list[tuple[str, str]]:
    """`order=asc:metadata.name` parameters (Backstage applies them in turn; the first one decides here)."""
    result = []
    for value in values:
        direction, _, name = value.partition(":")
        if direction not in ("asc", "desc") or not name.strip():
            raise CatalogApiError(400, f"Invalid order '{value}', expected e.g. asc:metadata.name")
        result.append((name.strip(), direction))
    return result


def _decode_after(token: str) -> tuple[int | None, int | None]:
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True).decode())
        limit, offset = data.get("limit"), data.get("offset")
    except (binascii.Error, ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        raise CatalogApiError(400, "Malformed after cursor, could not be parsed") from None
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_INTEGER_PARAM)
               for v in (limit, offset)):
        raise CatalogApiError(400, f"Malformed after cursor, limit and offset must be numbers from 0 to "
                                   f"{MAX_INTEGER_PARAM}")
    return limit, offset


def _encode_after(limit: int, offset: int) -> str:
    return base64.b64encode(json.dumps({"limit": limit, "offset": offset}).encode()).decode()


def _stream(engine: Engine, base: EntityQuery) -> Iterator[str]:
    """Yield a JSON array batch by batch, each batch read in its own short session."""
    yield "["
    first, cursor = True, None
    while True:
        with Session(engine) as session:
            q = EntityQuery(fields=base.fields, limit=STREAM_BATCH, cursor=cursor, count_total=False)
            if cursor is None:
                q.filters, q.order_fields, q.offset = base.filters, base.order_fields, base.offset
            page = query_entities(session, q)
        for item in page.items:
            yield ("" if first else ",") + json.dumps(item, separators=(",", ":"))
            first = False
        cursor = page.next_cursor
        if not cursor:
            break
    yield "]"


def list_entities_response(request: Request, session: Session):
    """Answer GET /entities: a page with a `Link: rel="next"` header, or the whole list streamed."""
    params = request.query_params
    base = EntityQuery(
        filters=parse_filter_params(params.getlist("filter")),
        fields=parse_fields_params(params.getlist("fields")),
        order_fields=parse_legacy_order(params.getlist("order")),  # type: ignore[arg-type]
        offset=integer_param(params, "offset"),
        limit=integer_param(params, "limit"),
        count_total=False,
    )
    after = string_param(params, "after")
    if after:
        limit, offset = _decode_after(after)
        base.limit = limit if limit is not None else base.limit
        base.offset = offset if offset is not None else base.offset
    if base.limit is None:
        # Validate the filters before streaming starts, so a bad one is still a 400.
        query_entities(session, EntityQuery(filters=base.filters, offset=base.offset, limit=0, count_total=False))
        return StreamingResponse(_stream(request.app.state.engine, base), media_type="application/json")
    page = query_entities(session, base)
    headers = {}
    if page.next_cursor:
        rest = [(k, v) for k, v in params.multi_items() if k not in ("offset", "after")]
        rest.append(("after", _encode_after(base.limit, (base.offset or 0) + base.limit)))
        headers["link"] = f'<{request.url.path}?{urlencode(rest)}>; rel="next"'
    return JSONResponse(page.items, headers=headers)
