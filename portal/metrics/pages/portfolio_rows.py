"""One row per platform product for the portfolio: adoption, request lead time, flow efficiency, load,
SLA compliance, satisfaction and time saved, with trends against the previous window.

Each product costs the queries of one flow report and one value report per window (the same functions
the APIs use), so the page grows linearly with the number of products, not with products × capabilities."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.metrics.api_value import value_report
from portal.metrics.entities import capabilities_of_product
from portal.metrics.flow_requests import request_flow_metrics
from portal.metrics.flow_scope import request_scope
from portal.metrics.page_window import PageWindow
from portal.metrics.pages.product_sections import headline, trend_json, trends
from portal.metrics.window import Window
from portal.products import service

# The portfolio shows totals only: the adoption series steps once a month whatever the window.
INTERVAL = "month"


def product_figures(session: Session, product_ref: str, capabilities: list[str], window: Window,
                    visible: ColumnElement | None) -> dict:
    """The headline figures of one product in one window, plus the adopting teams."""
    flow = request_flow_metrics(session, request_scope(session, "product", product_ref, None), window)
    value = value_report(session, capabilities, window, INTERVAL, visible)
    return {**headline(flow, value), "teams": value["totals"]["adoption"]["teams"]}


def portfolio_rows(session: Session, chosen: PageWindow, visible: ColumnElement | None) -> list[dict]:
    """Every product's figures in the window and the previous one (the trends always compare)."""
    rows = []
    for card in service.product_cards(session):
        ref = card["ref"]
        capabilities = sorted(capabilities_of_product(session, ref))
        now = product_figures(session, ref, capabilities, chosen.window, visible)
        before = product_figures(session, ref, capabilities, chosen.window.previous(), visible)
        rows.append({"ref": ref, "name": card["name"], "title": card["title"], "url": card["url"],
                     "capabilities": len(capabilities), "figures": now, "previous": before,
                     "trends": trends(now, before)})
    return rows


def rows_json(rows: list[dict]) -> list[dict]:
    return [{**row, "trends": {name: trend_json(value) for name, value in row["trends"].items()}} for row in rows]
