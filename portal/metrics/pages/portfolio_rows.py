"""One row per platform product for the portfolio: adoption, request lead time, flow efficiency, load,
SLA compliance, satisfaction and time saved, with trends against the previous window.

The figures are those the APIs give, read for all products together: per window, the flow figures of
all their orders (flow_headlines, which reads only what those figures need); for both windows, what the
value reports need whatever the window (value_history) and the orders delivered or confirmed in them
(WindowOrders). Besides two catalog reads per product (its capabilities and its value stream), the
page costs a fixed number of queries, not a flow and a value report per product and window."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.metrics.api_value import WindowOrders, value_report
from portal.metrics.entities import capabilities_of_product
from portal.metrics.flow_requests import scoped_flow_headlines
from portal.metrics.flow_scope import request_scope
from portal.metrics.page_window import PageWindow
from portal.metrics.pages.product_sections import headline, trend_json, trends
from portal.metrics.value_history import ValueHistory, value_history
from portal.metrics.window import Window
from portal.products import service

# The portfolio shows totals only: the adoption series steps once a month whatever the window.
INTERVAL = "month"


def _figures(session: Session, products: list[dict], window: Window, history: ValueHistory, orders: WindowOrders,
             visible: ColumnElement | None) -> list[dict]:
    """The headline figures of every product in one window, plus the adopting teams."""
    flows = scoped_flow_headlines(session, [product["scope"] for product in products], window)
    answer = []
    for product, flow in zip(products, flows):
        capabilities = product["capabilities"]
        value = value_report(session, capabilities, window, INTERVAL, visible, history.restricted(capabilities),
                             orders.within(capabilities, window), totals_only=True)
        answer.append({**headline(flow, value), "teams": value["totals"]["adoption"]["teams"]})
    return answer


def portfolio_rows(session: Session, chosen: PageWindow, visible: ColumnElement | None) -> list[dict]:
    """Every product's figures in the window and the previous one (the trends always compare)."""
    products = [{"card": card, "capabilities": sorted(capabilities_of_product(session, card["ref"])),
                 "scope": request_scope(session, "product", card["ref"], None)}
                for card in service.product_cards(session)]
    everything = sorted({ref for product in products for ref in product["capabilities"]})
    history = value_history(session, everything)
    previous = chosen.window.previous()
    orders = WindowOrders.read(session, everything, Window(previous.start, chosen.window.end), visible)
    now = _figures(session, products, chosen.window, history, orders, visible)
    before = _figures(session, products, previous, history, orders, visible)
    rows = []
    for product, current, earlier in zip(products, now, before):
        card = product["card"]
        rows.append({"ref": card["ref"], "name": card["name"], "title": card["title"], "url": card["url"],
                     "capabilities": len(product["capabilities"]), "figures": current, "previous": earlier,
                     "trends": trends(current, earlier)})
    return rows


def rows_json(rows: list[dict]) -> list[dict]:
    return [{**row, "trends": {name: trend_json(value) for name, value in row["trends"].items()}} for row in rows]
