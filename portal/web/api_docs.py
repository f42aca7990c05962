"""The API explorer at /docs: Swagger UI served by the portal itself (npm's swagger-ui-dist, copied
into static/vendor by `make install`), never from a CDN, and started by a static script so that the
page needs no inline JavaScript."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Flowport API</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
  <link rel="alternate" type="application/json" href="/openapi.json">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_explorer() -> HTMLResponse:
    """Swagger UI over the portal's OpenAPI document."""
    return HTMLResponse(_PAGE)
