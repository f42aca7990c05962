"""The catalog list and entity pages as plain HTTP: content, fragments, JSON twins, no JavaScript needed."""

from __future__ import annotations

import re
from html import unescape

import pytest

pytestmark = pytest.mark.usefixtures("seeded")


def _result_names(html: str) -> list[str]:
    """Entity names linked from the results table rows, in page order."""
    return re.findall(r'<th scope="row"><a href="/catalog/[^/]+/[^/]+/([^"]+)">', html)


def test_catalog_page_lists_entities_in_plain_html(client):
    response = client.get("/catalog?kind=component")
    assert response.status_code == 200
    html = response.text
    # Everything is in the HTML itself, so the page works with JavaScript switched off.
    assert "shipments-service" in _result_names(html)
    assert '<form id="catalog-filters"' in html and 'method="get" action="/catalog"' in html
    assert '<button type="submit">Search</button>' in html
    assert re.search(r'<a href="/catalog\?kind=component"[^>]*aria-current="page">Component', html)
    assert "11 entities" in html


def test_catalog_search_box_is_a_debounced_htmx_input(client):
    html = client.get("/catalog").text
    search = re.search(r'<input id="catalog-q"[^>]*>', html, re.S).group(0)
    assert 'hx-trigger="input changed delay:300ms, search"' in search
    assert 'hx-push-url="true"' in search and 'hx-target="#catalog-results"' in search
    assert '<label for="catalog-q">' in html


def test_htmx_request_gets_only_the_results_fragment(client):
    response = client.get("/catalog?q=shipments", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="catalog-results"')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["vary"]
    assert set(_result_names(response.text)) == {"shipping", "shipments-api", "shipments-db", "shipments-service",
                                                 "team-shipments", "eta-predictor", "parcel-scanner",
                                                 "dock-scheduler", "pallet-tracker", "hub-dashboard"}


def test_history_restore_gets_the_whole_page(client):
    response = client.get("/catalog?q=shipments", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.text


def test_full_text_search_narrows_results(client):
    names = _result_names(client.get("/catalog?q=printer").text)
    assert names == ["label-printer"]


def test_facet_filters_narrow_results_and_show_counts(client):
    html = client.get("/catalog?kind=component&lifecycle=experimental").text
    assert sorted(_result_names(html)) == ["carrier-gateway", "hub-dashboard", "invoice-service", "parcel-scanner"]
    # The chosen value stays ticked and the facet shows how many components have it.
    assert re.search(r'name="lifecycle" value="experimental" checked>', html)
    assert re.search(r'experimental <span class="count">4</span>', html)


def test_owner_facet_combines_with_search(client):
    html = client.get("/catalog?kind=component&owner=team-shipments&tag=go").text
    assert sorted(_result_names(html)) == ["dock-scheduler", "eta-predictor", "hub-dashboard", "pallet-tracker",
                                           "parcel-scanner"]


def test_paging_links_carry_cursor_and_filters(client):
    first = client.get("/catalog?kind=component&limit=5").text
    assert _result_names(first) == ["carrier-gateway", "customs-checker", "dock-scheduler", "eta-predictor",
                                    "hub-dashboard"]
    next_url = unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))
    assert "kind=component" in next_url and "cursor=" in next_url
    second = client.get(next_url).text
    assert _result_names(second) == ["invoice-service", "label-printer", "pallet-tracker", "parcel-scanner",
                                     "route-planner"]
    prev_url = unescape(re.search(r'<a href="([^"]+)" rel="prev"', second).group(1))
    assert _result_names(client.get(prev_url).text)[0] == "carrier-gateway"


def test_bad_cursor_is_a_readable_error(client):
    response = client.get("/catalog?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "Traceback" not in response.text and "<h1>" in response.text


def test_catalog_page_links_its_json_twin(client):
    html = client.get("/catalog?kind=component&q=printer").text
    twin = unescape(re.search(r'<link rel="alternate" type="application/json" href="([^"]+)">', html).group(1))
    assert twin.startswith("/api/catalog/entities/by-query?")
    body = client.get(twin).json()
    assert [item["metadata"]["name"] for item in body["items"]] == ["label-printer"]


def test_entity_page_shows_overview_owner_relations_and_graph(client):
    response = client.get("/catalog/default/component/shipments-service")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Shipments service</h1>" in html
    assert '<a href="/catalog/default/group/team-shipments">team-shipments</a>' in html
    assert '<dt>providesApi</dt>' in html and '<a href="/catalog/default/api/shipments-api">Shipments API</a>' in html
    assert "<svg" in html and 'aria-labelledby="graph-title graph-desc"' in html
    assert 'href="/catalog/default/component/shipments-service/graph.svg"' in html
    assert "backstage.io/managed-by-location" in html and "file:/srv/catalog/northwind.yaml" in html
    twin = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)">', html).group(1)
    assert client.get(twin).json()["metadata"]["name"] == "shipments-service"


def test_entity_page_is_found_whatever_the_case(client):
    assert client.get("/catalog/default/Component/Shipments-Service").status_code == 200


def test_entity_page_shows_processing_errors_and_orphans(client):
    errors = client.get("/catalog/default/component/customs-checker").text
    assert "Processing errors (1)" in errors and "Owner group:default/team-ghost was not found" in errors
    orphan = client.get("/catalog/default/component/hub-dashboard").text
    assert "Orphaned entity" in orphan


def test_kind_specific_sections(client):
    group = client.get("/catalog/default/group/team-shipments").text
    assert "Members (2)" in group and "Bruno Costa" in group
    user = client.get("/catalog/default/user/alice.andersen").text
    assert "Groups (1)" in user and '<a href="/catalog/default/group/team-runtime">Runtime team</a>' in user
    system = client.get("/catalog/default/system/shipping").text
    assert "Components (1)" in system and "APIs (1)" in system and "Resources (1)" in system
    api = client.get("/catalog/default/api/shipments-api").text
    assert '<pre class="definition"' in api and "openapi: 3.0.0" in api
    product = client.get("/catalog/default/platformproduct/runtime-platform").text
    assert 'href="/products/runtime-platform"' in product
    capability = client.get("/catalog/default/capability/postgres-database").text
    assert 'href="/products/runtime-platform/capabilities/postgres-database"' in capability


def test_unknown_entity_is_a_helpful_404(client):
    response = client.get("/catalog/default/component/shipment-servic")
    assert response.status_code == 404
    assert "There is no component called “shipment-servic”" in response.text
    assert '<a href="/catalog?q=shipment-servic">' in response.text
    assert "Traceback" not in response.text


def test_home_shows_products_then_catalog_summary(client):
    html = client.get("/").text
    assert html.index("Runtime Platform") < html.index("Catalog</h2>")
    card = html[html.index('class="card product-card"'):]
    assert "Kubernetes, managed PostgreSQL and secrets" in card
    assert re.search(r"<dt>Capabilities</dt><dd>2</dd>", card)
    assert '<a href="/catalog?kind=component"><span class="count">11</span> <span class="kind">Components</span>' in html
    assert '<span class="count">2</span> <span class="kind">Capabilities</span>' in html
    assert 'href="/auth/sign-in"' in html
