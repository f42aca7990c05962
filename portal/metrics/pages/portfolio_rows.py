"""One row per platform product for the portfolio: adoption, request lead time, flow efficiency, load,
SLA compliance, satisfaction and time saved, with trends against the previous window.

The figures come from the functions the APIs use. Per window, every product's orders are read in one
go (flow_requests.scoped_flow_metrics); per product, what the value report needs whatever the window is
read once (value_history) and each window adds its deliveries and confirmations, so the page costs a
few queries per product, not a flow and a value report per product and window."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.metrics.api_value import value_report
from portal.metrics.entities import capabilities_of_product
from portal.metrics.flow_requests import scoped_flow_metrics
from portal.metrics.flow_scope import request_scope
from portal.metrics.page_window import PageWindow
from portal.metrics.pages.product_sections import headline, trend_json, trends
from portal.metrics.value_history import value_history
from portal.metrics.window import Window
from portal.products import service

# The portfolio shows totals only: the adoption series steps once a month whatever the window.
INTERVAL = "month"


def _figures(session: Session, products: list[dict], window: Window, visible: ColumnElement | None) -> list[dict]:
    """The headline figures of every product in one window, plus the adopting teams."""
    flows = scoped_flow_metrics(session, [product["scope"] for product in products], window)
    answer = []
    for product, flow in zip(products, flows):
        value = value_report(session, product["capabilities"], window, INTERVAL, visible, product["history"])
        answer.append({**headline(flow, value), "teams": value["totals"]["adoption"]["teams"]})
    return answer


def portfolio_rows(session: Session, chosen: PageWindow, visible: ColumnElement | None) -> list[dict]:
    """Every product's figures in the window and the previous one (the trends always compare)."""
    products = []
    for card in service.product_cards(session):
        capabilities = sorted(capabilities_of_product(session, card["ref"]))
        products.append({"card": card, "capabilities": capabilities, "history": value_history(session, capabilities),
                         "scope": request_scope(session, "product", card["ref"], None)})
    now = _figures(session, products, chosen.window, visible)
    before = _figures(session, products, chosen.window.previous(), visible)
    rows = []
    for product, current, previous in zip(products, now, before):
        card = product["card"]
        rows.append({"ref": card["ref"], "name": card["name"], "title": card["title"], "url": card["url"],
                     "capabilities": len(product["capabilities"]), "figures": current, "previous": previous,
                     "trends": trends(current, previous)})
    return rows


def rows_json(rows: list[dict]) -> list[dict]:
    return [{**row, "trends": {name: trend_json(value) for name, value in row["trends"].items()}} for row in rows]
