"""Product and capability pages and their JSON twins under /api/v1/products."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.usefixtures("seeded")


def test_products_index_lists_product_cards(client):
    html = client.get("/products").text
    assert '<a href="/products/runtime-platform">Runtime Platform</a>' in html
    assert '<link rel="alternate" type="application/json" href="/api/v1/products">' in html


def test_product_page_shows_product_and_capabilities_as_products(client):
    response = client.get("/products/runtime-platform")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Runtime Platform</h1>" in html
    assert "Provision a database in under one hour" in html
    assert '<a href="/catalog/default/group/team-shipments">team-shipments</a>' in html  # a customer
    assert "Capabilities (2)" in html
    postgres = html[html.index("PostgreSQL database</a>"):]
    assert re.search(r"<dt>Target lead time</dt><dd>2 days</dd>", postgres)
    assert re.search(r"<dt>Time saved</dt><dd>16 hours per request</dd>", postgres)
    assert re.search(r"<dt>Fulfilment</dt><dd>approval</dd>", postgres)
    assert '<a href="/catalog/default/template/python-service">python-service</a>' in postgres
    assert '<a href="https://docs.northwind.example/runtime/postgres/" rel="noopener noreferrer">Managed PostgreSQL</a>' in postgres
    assert "15 minutes" in html


def test_capability_page_in_product_context(client):
    html = client.get("/products/runtime-platform/capabilities/kubernetes-namespace").text
    assert "<h1>Kubernetes namespace</h1>" in html
    assert 'Capability of <a href="/products/runtime-platform">Runtime Platform</a>' in html
    assert '<a href="/catalog/default/capability/kubernetes-namespace">' in html
    twin = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)">', html).group(1)
    assert client.get(twin).json()["summary"]["targetLeadTimeText"] == "15 minutes"


def test_unknown_product_and_capability_are_404_pages(client):
    missing = client.get("/products/no-such-product")
    assert missing.status_code == 404 and "no platform product called" in missing.text
    wrong = client.get("/products/runtime-platform/capabilities/shipments-service")
    assert wrong.status_code == 404 and "has no capability called" in wrong.text


def test_products_json_lists_summaries(client):
    body = client.get("/api/v1/products").json()
    assert [item["name"] for item in body["items"]] == ["runtime-platform"]
    item = body["items"][0]
    assert item["capabilityCount"] == 2 and item["owner"] == "group:team-runtime"
    assert item["url"] == "/products/runtime-platform"


def test_product_json_has_capabilities(client):
    body = client.get("/api/v1/products/runtime-platform").json()
    assert body["product"]["metadata"]["title"] == "Runtime Platform"
    summaries = {c["summary"]["name"]: c["summary"] for c in body["capabilities"]}
    assert summaries["postgres-database"]["targetLeadTime"] == "P2D"
    assert summaries["postgres-database"]["targetLeadTimeText"] == "2 days"
    assert summaries["postgres-database"]["approvers"] == "group:default/team-runtime"
    assert summaries["kubernetes-namespace"]["fulfillmentMode"] == "automated"


def test_product_json_404(client):
    response = client.get("/api/v1/products/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["error"]["message"]
