"""The numbers of a product's metrics page, from the metrics functions the APIs use (no metric is
computed here): DORA of the components adopting its capabilities, flow metrics and the value stream
of its orders, value realized and the impact of each capability."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.metrics.api_dora import dora_of_components
from portal.metrics.api_value import WindowOrders, capability_impact, value_report
from portal.metrics.charts import trend
from portal.metrics.entities import Adoption, adopters, capabilities_of_product, component_links
from portal.metrics.flow_requests import flow_figures, scope_flow_metrics, scoped_requests
from portal.metrics.flow_scope import RequestScope, request_scope
from portal.metrics.impact import DEFAULT_WINDOW as DEFAULT_IMPACT_WINDOW
from portal.metrics.page_window import PageWindow
from portal.metrics.tiers import DEFAULT_BENCHMARK
from portal.metrics.value import capability_info
from portal.metrics.value_history import ValueHistory, value_history
from portal.metrics.value_stream_query import scope_value_stream
from portal.metrics.window import Window

# The adoption chart steps by week in short windows, by month in long ones (at most ~13 points).
WEEKLY_UP_TO_DAYS = 90
DORA_NAMES = {
    "deploymentFrequency": ("Deployment frequency", "deployment_frequency"),
    "leadTimeForChanges": ("Lead time for changes", "lead_time"),
    "changeFailureRate": ("Change failure rate", "change_failure_rate"),
    "failedDeploymentRecoveryTime": ("Failed deployment recovery time", "recovery_time"),
    "timeToRestore": ("Time to restore", "time_to_restore"),
}


def adoption_interval(window: Window) -> str:
    return "week" if window.seconds <= WEEKLY_UP_TO_DAYS * 86_400 else "month"


def headline(flow: dict, value: dict) -> dict:
    """The figures a trend arrow compares, keyed by the trend helper's metric names."""
    totals = value["totals"]
    return {
        "flow_time": flow["flowTime"]["p50"],
        "flow_time_p85": flow["flowTime"]["p85"],
        "flow_efficiency": flow["efficiency"]["ratio"],
        "flow_load": flow["load"]["wip"],
        "adoption": totals["adoption"]["components"],
        "time_saved": totals["timeSaved"]["credited"],
        "satisfaction": totals["satisfaction"]["averageRating"],
        "sla_compliance": totals["sla"]["compliance"],
    }


_TREND_METRIC = {"flow_time_p85": "flow_time"}


def trends(current: dict, previous: dict | None) -> dict:
    """One trend per headline figure (flat and neutral without a previous window)."""
    if previous is None:
        return {}
    return {name: trend(value, previous.get(name), _TREND_METRIC.get(name, name)) for name, value in current.items()}


def _window_sections(session: Session, scopes: list[RequestScope], capabilities: list[str], history: ValueHistory,
                     orders: WindowOrders, components: dict, window: Window, visible: ColumnElement | None) -> dict:
    """The product's flow, value and DORA in one window; the flow figures of the capabilities in scopes[1:]
    (flow time, efficiency, load and velocity of each one's orders) beside."""
    found = scoped_requests(session, scopes, window)
    flow = scope_flow_metrics(session, scopes[0], found[0], window)
    value = value_report(session, capabilities, window, adoption_interval(window), visible, history,
                         orders.within(capabilities, window))
    dora = dora_of_components(session, components, window, DEFAULT_BENCHMARK)
    return {"scope": scopes[0], "flow": flow, "value": value, "dora": dora,
            "capability_flows": {scope.capability_ref: flow_figures(requests)
                                 for scope, requests in zip(scopes[1:], found[1:])}}


def product_sections(session: Session, product_ref: str, chosen: PageWindow,
                     visible: ColumnElement | None) -> dict:
    """Everything the product page shows, in the JSON twin's shape (trends as Trend objects).

    What does not depend on the window (the capabilities' adoptions, who adopted them, the scopes) and the
    orders delivered or confirmed in either window are read once; the product's and its capabilities'
    orders are read together."""
    capabilities = sorted(capabilities_of_product(session, product_ref))
    history = value_history(session, capabilities)
    # The components of the product's scope (entities.resolve_scope): those adopting its capabilities.
    components = component_links(session, {item.component for item in history.adoptions})
    scopes = [request_scope(session, "product", product_ref, None)]
    # Only the capabilities the value report lists (those in the catalog) get a flow of their own.
    scopes += [request_scope(session, "capability", info.ref, None) for info in history.infos]
    earliest = chosen.previous or chosen.window
    orders = WindowOrders.read(session, capabilities, Window(earliest.start, chosen.window.end), visible)
    now = _window_sections(session, scopes, capabilities, history, orders, components, chosen.window, visible)
    before = None
    if chosen.previous is not None:
        before = _window_sections(session, scopes[:1], capabilities, history, orders, components, chosen.previous,
                                  visible)
    current_figures = headline(now["flow"], now["value"])
    previous_figures = headline(before["flow"], before["value"]) if before else None
    dora_trends = {}
    if before:
        dora_trends = {key: trend(now["dora"][key]["value"], before["dora"][key]["value"], metric)
                       for key, (_, metric) in DORA_NAMES.items()}
    per_capability = [{**item, "flow": now["capability_flows"][item["ref"]]}
                      for item in now["value"]["capabilities"]]
    return {
        "product": product_ref,
        "window": chosen.as_json(),
        "components": sorted(components),
        "dora": {"benchmark": DEFAULT_BENCHMARK, **now["dora"]},
        "flow": now["flow"],
        "valueStream": scope_value_stream(session, now["scope"], chosen.window),
        "value": now["value"]["totals"],
        "capabilities": per_capability,
        "headline": current_figures,
        "previous": {"headline": previous_figures, "dora": before["dora"]} if before else None,
        "trends": {**trends(current_figures, previous_figures),
                   **{f"dora.{name}": value for name, value in dora_trends.items()}},
    }


def capability_dora(session: Session, adoptions: list[Adoption], window: Window) -> dict:
    """DORA over the components that adopted one capability (its `adoptions`), in the page's window."""
    links = component_links(session, {item.component for item in adoptions})
    return {"components": len(links), **dora_of_components(session, links, window, DEFAULT_BENCHMARK)}


def product_impact(session: Session, product_ref: str, window: Window) -> list[dict]:
    """Per capability: DORA of its adopters in the window, and the answer of GET /api/v1/metrics/impact
    (DORA before and after each adoption). Two DORA reads per capability (its adopters in the window, and
    one batch of their before and after windows), so the page loads this apart (see
    portal/metrics/pages/product.py); the adoptions are read once."""
    capabilities = sorted(capabilities_of_product(session, product_ref))
    infos = capability_info(session, capabilities)
    adoptions = adopters(session, capabilities)
    answer = []
    for info in infos:
        own = [item for item in adoptions if item.capability == info.ref]
        answer.append({"ref": info.ref, "title": info.title, "dora": capability_dora(session, own, window),
                       "impact": capability_impact(session, info.ref, own, DEFAULT_IMPACT_WINDOW,
                                                   DEFAULT_BENCHMARK)})
    return answer


def trend_json(value: object) -> dict:
    """A Trend as the JSON twin shows it."""
    return {"direction": value.direction, "verdict": value.verdict, "change": value.change}
