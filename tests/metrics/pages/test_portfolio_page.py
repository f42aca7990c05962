"""GET /portfolio on the hand-checked value scenario: one row per product with trends, JSON twin, partial."""

from __future__ import annotations

import pytest

from tests.metrics.value_scenario import PRODUCT, seed_catalog, seed_orders
from tests.requests.factories import product, store

MAY_AND_JUNE = {"window": "custom", "from": "2024-05-01", "until": "2024-07-01"}
HOUR = 3600
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}


@pytest.fixture
def scenario(session):  # noqa: ANN001, ANN201
    seed_catalog(session)
    seed_orders(session)
    quiet = product("quiet-product")
    quiet["metadata"]["title"] = "<img src=x onerror=alert(1)>"
    store(session, [quiet])
    session.commit()
    return session


def rows_by_ref(client) -> dict:  # noqa: ANN001
    response = client.get("/portfolio", params=MAY_AND_JUNE, headers=JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["window"]["from"] == "2024-05-01T00:00:00Z"
    assert body["comparedWith"] == {"from": "2024-03-01T00:00:00Z", "until": "2024-05-01T00:00:00Z"}
    return {row["ref"]: row for row in body["products"]}


def test_json_twin_has_one_row_per_product_with_hand_checked_figures(client, scenario) -> None:  # noqa: ANN001
    rows = rows_by_ref(client)
    assert set(rows) == {PRODUCT, "platformproduct:default/quiet-product"}
    delivery = rows[PRODUCT]
    assert delivery["capabilities"] == 2
    figures = delivery["figures"]
    assert figures["time_saved"] == 44 * HOUR and figures["sla_compliance"] == 0.5 and figures["satisfaction"] == 4
    assert figures["adoption"] == 3  # web, api and worker
    # The previous window (March and April) holds only O5: 6 h credited, within its target.
    assert delivery["previous"]["time_saved"] == 6 * HOUR and delivery["previous"]["sla_compliance"] == 1.0
    assert delivery["trends"]["time_saved"]["verdict"] == "better"
    assert delivery["trends"]["sla_compliance"]["verdict"] == "worse"
    quiet = rows["platformproduct:default/quiet-product"]
    assert quiet["figures"]["flow_load"] == 0 and quiet["figures"]["sla_compliance"] is None


def test_figures_agree_with_the_product_page(client, scenario) -> None:  # noqa: ANN001
    rows = rows_by_ref(client)
    page = client.get("/products/delivery-platform/metrics", params=MAY_AND_JUNE, headers=JSON).json()
    figures = {key: value for key, value in rows[PRODUCT]["figures"].items() if key != "teams"}
    assert figures == page["headline"]


def test_page_escapes_titles_and_links_each_products_metrics(client, scenario) -> None:  # noqa: ANN001
    response = client.get("/portfolio", params=MAY_AND_JUNE, headers=HTML)
    assert response.status_code == 200, response.text
    assert "<img src=x onerror=alert(1)>" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert 'href="/products/delivery-platform/metrics?window=custom&amp;from=2024-05-01T00%3A00%3A00Z' in response.text
    assert 'aria-current="page">Portfolio</a>' in response.text
    assert response.text.count("trend trend-") >= 7


def test_htmx_gets_the_partial_and_bad_windows_are_400(client, scenario) -> None:  # noqa: ANN001
    partial = client.get("/portfolio", params={"window": "7d"}, headers={**HTML, "HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and "portfolio-table" in partial.text
    for params in ({"window": "-1d"}, {"window": "custom", "from": "2024-13-45"}, {"compare": "\u202e"}):
        response = client.get("/portfolio", params=params, headers=HTML)
        assert response.status_code == 400, (params, response.text)
        assert "Traceback" not in response.text


def test_an_empty_catalog_says_so(client) -> None:  # noqa: ANN001
    response = client.get("/portfolio", headers=HTML)
    assert response.status_code == 200 and "No platform products in the catalog yet." in response.text
    assert client.get("/portfolio", headers=JSON).json()["products"] == []
