"""Hostile parameters to the catalog API and pages: each is a clear 4xx that names the problem."""

from __future__ import annotations

import base64
import json

import pytest

from tests.web.catalog_data import seed_catalog


@pytest.fixture
def catalog(session):
    seed_catalog(session)


# A cursor whose JSON nests 5,000 deep: Python's parser gives up with a RecursionError.
DEEP = base64.urlsafe_b64encode(b"[" * 5000).decode()


def _after(**values) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize("url, message", [
    ("/api/catalog/entities/by-query?limit=9223372036854775807", "Invalid limit 9223372036854775807"),
    ("/api/catalog/entities/by-query?limit=99999999999999999999999999", "is not a number"),
    ("/api/catalog/entities/by-query?limit=-1", "Invalid limit -1, it must be between 0 and"),
    ("/api/catalog/entities/by-query?offset=-1", "Invalid offset -1"),
    ("/api/catalog/entities/by-query?offset=18446744073709551616", "Invalid offset"),
    ("/api/catalog/entities/by-query?limit=1e3", "'1e3' is not a number"),
    ("/api/catalog/entities/by-query?cursor=not-a-cursor", "Malformed cursor"),
    ("/api/catalog/entities/by-query?cursor=" + base64.urlsafe_b64encode(b'{"v":1}').decode(), "Malformed cursor"),
    ("/api/catalog/entities/by-query?orderField=metadata.name,sideways", "Invalid orderField"),
    ("/api/catalog/entities/by-query?filter==x", "Invalid filter"),
    ("/api/catalog/entities?offset=-1", "Invalid offset -1"),
    ("/api/catalog/entities?offset=-1&limit=5", "Invalid offset -1"),
    ("/api/catalog/entities?limit=9223372036854775807", "Invalid limit"),
    ("/api/catalog/entities?after=" + _after(limit=5, offset=2**64), "Malformed after cursor"),
    ("/api/catalog/entities?after=" + _after(limit=-5), "Malformed after cursor"),
    ("/api/catalog/entities?order=sideways:metadata.name", "Invalid order"),
    ("/api/catalog/entities/by-query?cursor=" + DEEP, "Malformed cursor"),
    ("/api/catalog/entities?after=" + base64.b64encode(b"[" * 5000).decode(), "Malformed after cursor"),
])
def test_bad_parameters_are_400_input_errors(client, catalog, url, message):
    response = client.get(url)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["name"] == "InputError" and message in error["message"]


def test_the_legacy_listing_refuses_a_negative_offset_before_it_streams(client, catalog):
    response = client.get("/api/catalog/entities?offset=-1")
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/json")


def test_an_unknown_kind_tab_shows_an_empty_catalog_page(client, catalog):
    response = client.get("/catalog?kind=xyz", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "<title>Catalog · xyz · Flowport</title>" in response.text
    assert "0 entities" in response.text


@pytest.mark.parametrize("url", ["/catalog?limit=9223372036854775807", "/catalog?limit=-1", "/catalog?cursor=%%%",
                                 "/catalog?cursor=" + DEEP])
def test_bad_page_parameters_are_readable_400_pages(client, catalog, url):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 400 and "<html" in response.text and "Traceback" not in response.text


def _rewrite(cursor: str, change) -> str:  # noqa: ANN001
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    change(payload)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_nul_hidden_in_a_cursor_is_a_400(client, catalog):
    first = client.get("/api/catalog/entities/by-query?filter=kind=component&limit=2").json()
    cursor = first["pageInfo"]["nextCursor"]
    assert client.get(f"/api/catalog/entities/by-query?cursor={cursor}").status_code == 200
    hidden = _rewrite(cursor, lambda payload: payload["filters"][0].update({"kind": ["compo\x00nent"]}))
    response = client.get(f"/api/catalog/entities/by-query?cursor={hidden}")
    assert response.status_code == 400 and "Malformed cursor" in response.json()["error"]["message"]
