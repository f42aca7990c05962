"""Error pages are for people: a readable page, never a stack trace."""

from __future__ import annotations

from fastapi.testclient import TestClient

HTML = {"accept": "text/html"}


def test_unknown_page_is_a_readable_404(client):
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert '<a href="/catalog">Search the catalog</a>' in response.text


def test_unexpected_error_shows_no_stack_trace(app):
    def explode():
        raise RuntimeError("secret internals")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode", headers=HTML)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
