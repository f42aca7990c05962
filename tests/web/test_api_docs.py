"""The API explorer at /docs is served by the portal itself: no CDN, no inline script."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


def test_the_explorer_page_loads_only_the_portals_own_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    # Every <script> names a file: nothing inline for a Content-Security-Policy to allow.
    assert re.findall(r"<script[^>]*>\s*[^<\s]", page.text) == []
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                  "/static/api-docs.js"):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 30


def test_redoc_from_a_cdn_is_gone(client):
    assert client.get("/redoc").status_code == 404


@pytest.mark.browser
def test_the_explorer_lists_the_api_in_the_browser(page, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/catalog/entities/by-query").first).to_be_visible()
    assert requested and all(url.startswith(live_server) for url in requested), requested
