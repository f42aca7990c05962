"""The metrics pages on the demo organisation with ninety days of seeded demo data (portal/demo/)."""

from __future__ import annotations

import csv
import io

from portal.demo.seed import seed_demo
from tests.demo.conftest import demo_catalog, short_year  # noqa: F401 - fixtures

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
LAST_NINETY = {"window": "custom", "from": "2026-09-02", "until": "2026-12-01", "compare": "previous"}


def test_demo_products_fill_the_portfolio_and_the_product_page(client, session, demo_catalog, short_year) -> None:  # noqa: ANN001, F811
    seed_demo(session, short_year)
    session.commit()
    portfolio = client.get("/portfolio", params=LAST_NINETY, headers=JSON).json()
    assert {row["name"] for row in portfolio["products"]} == {
        "delivery-platform", "runtime-platform", "observability-platform"}
    busiest = max(portfolio["products"], key=lambda row: row["figures"]["time_saved"] or 0)
    assert busiest["figures"]["time_saved"] > 0 and busiest["figures"]["adoption"] > 0

    url = f"/products/{busiest['name']}/metrics"
    body = client.get(url, params=LAST_NINETY, headers=JSON).json()
    # The portfolio row and the product page are the same figures.
    assert {key: value for key, value in busiest["figures"].items() if key != "teams"} == body["headline"]
    assert body["components"], "the demo components adopt the product's capabilities"
    assert body["dora"]["deploymentFrequency"]["samples"] > 0
    page = client.get(url, params=LAST_NINETY, headers=HTML)
    assert page.status_code == 200
    assert "No data in this window." not in page.text.split('id="figure-cfd"')[1].split("</figure>")[0]
    cfd = client.get(url, params={**LAST_NINETY, "chart": "cfd", "format": "csv"})
    rows = list(csv.reader(io.StringIO(cfd.text)))
    assert len(rows) == 1 + 90  # a header and one row per day of the window
    assert sum(float(cell) for row in rows[1:] for cell in row[1:]) > 0
