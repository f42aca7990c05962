"""The charts of a product's metrics page, built from its sections with the shared chart functions."""

from __future__ import annotations

from portal.metrics.charts import Chart, Series, bar_chart, cumulative_flow, line_chart, tier_badge, value_stream_map
from portal.metrics.pages.product_sections import DORA_NAMES


def cfd_chart(flow: dict) -> Chart:
    cfd = flow["cumulativeFlow"]
    days = [day["date"] for day in cfd["days"]]
    stages = [(state, [day["counts"].get(state, 0) for day in cfd["days"]]) for state in cfd["states"]]
    return cumulative_flow("Cumulative flow of orders", days, stages, chart_id="cfd")


def distribution_chart(flow: dict) -> Chart:
    finished = flow["distribution"]["finished"]
    return bar_chart("Finished orders by flow type", [(name, share["items"]) for name, share in finished.items()],
                     unit="count", chart_id="distribution", value_name="orders")


def adoption_chart(value: dict) -> Chart:
    series = value["adoption"]["series"]
    labels = [period["from"][:10] for period in series]
    return line_chart("Adoption over time", labels,
                      [Series("components", tuple(period["components"] for period in series)),
                       Series("teams", tuple(period["teams"] for period in series))],
                      unit="count", chart_id="adoption")


def product_charts(sections: dict) -> dict[str, Chart]:
    """Every downloadable chart of the page, by the id its download link carries."""
    charts = [
        cfd_chart(sections["flow"]),
        distribution_chart(sections["flow"]),
        value_stream_map(sections["valueStream"], title="Value stream of orders", chart_id="value-stream"),
        adoption_chart(sections["value"]),
    ]
    return {chart.id: chart for chart in charts}


def dora_badges(dora: dict) -> dict[str, Chart]:
    """A tier badge per DORA metric (the badges have no data to download)."""
    return {key: tier_badge(dora[key]["tier"], metric=title, chart_id=f"tier-{key}")
            for key, (title, _) in DORA_NAMES.items()}
