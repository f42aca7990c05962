"""A JSON response for documents that are already plain JSON data (entities from the database):
it skips FastAPI's per-field encoding pass, which costs more than the query on hot read routes."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse


class PlainJSONResponse(JSONResponse):
    """Compact JSON of dicts, lists, strings, numbers, booleans and None only."""

    def render(self, content: Any) -> bytes:
        return self.encode(content)

    @staticmethod
    def encode(content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
