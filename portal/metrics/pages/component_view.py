"""Shared pieces of the team page and the component metrics tab: reading the window (a 400 page for a
bad one), the DORA cards with tier badges and trends, and the tab's charts."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException, Request

from portal.errors import CatalogApiError
from portal.metrics.charts import HORIZONTAL, bar_chart, sparkline, tier_badge, trend
from portal.metrics.charts.formatting import COUNT, DURATION, NUMBER, PERCENT, format_value
from portal.flow.query import iso
from portal.metrics.page_window import PageWindow, page_window

# DORA metric → (label, unit for display, the trend vocabulary of charts.sparkline).
DORA_LABELS = {
    "deploymentFrequency": ("Deployment frequency", NUMBER, "deployment_frequency"),
    "leadTimeForChanges": ("Lead time for changes", DURATION, "lead_time"),
    "changeFailureRate": ("Change failure rate", PERCENT, "change_failure_rate"),
    "failedDeploymentRecoveryTime": ("Failed deployment recovery time", DURATION, "recovery_time"),
    "timeToRestore": ("Time to restore", DURATION, "time_to_restore"),
}
# Times in the JSON twins as the metrics APIs write them: ISO-8601 UTC with a Z.
JSON_TIMES = {datetime: iso}
BREAKDOWN = (("coding", "Coding"), ("pickupAndReview", "Pickup and review"), ("deploy", "Deploy"))


def read_window(window: str | None, from_: str | None, until: str | None, compare: str | None) -> PageWindow:
    """The page's window; a bad one is a 400 (an error page for a browser, JSON for an API caller)."""
    try:
        return page_window(window, from_, until, compare)
    except CatalogApiError as error:
        raise HTTPException(400, error.message) from None


def wants_json(request: Request) -> bool:
    """The JSON twin: `Accept: application/json` without text/html, on the page's own URL."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def shown(value: float | None, metric: str) -> str:
    label, unit, _ = DORA_LABELS[metric]
    text = format_value(value, unit)
    return f"{text} a week" if metric == "deploymentFrequency" and value is not None else text


def dora_cards(current: dict, previous: dict | None, weekly: list[dict] | None = None) -> list[dict]:
    """One card per DORA metric: value in words, samples, tier badge, and a trend when comparing.
    Deployment frequency also gets a sparkline of its weeks (`weekly`, already counted for the chart);
    the other metrics' weekly values would cost one more DORA read per week, so they have none."""
    cards = []
    for metric, (label, _, trend_name) in DORA_LABELS.items():
        item = current[metric]
        before = previous[metric] if previous else None
        cards.append({
            "id": metric, "label": label, "value": shown(item["value"], metric), "samples": item["samples"],
            "badge": tier_badge(item["tier"], metric=label, chart_id=f"tier-{metric}"),
            "trend": trend(item["value"], before["value"], trend_name) if before else None,
            "previous": shown(before["value"], metric) if before else None,
            "spark": (sparkline(f"{label}: deployments per week", [row["deployments"] for row in weekly],
                                labels=[row["weekStarting"] for row in weekly], chart_id=f"spark-{metric}")
                      if weekly and metric == "deploymentFrequency" else None),
        })
    return cards


def weekly_chart(rows: list[dict]):  # noqa: ANN201 - a Chart
    """Successful production deployments per week (the team page and the component tab)."""
    return bar_chart("Production deployments per week", [(row["weekStarting"], row["deployments"]) for row in rows],
                     unit=COUNT, chart_id="deployments-per-week", value_name="deployments")


def page_charts(data: dict) -> dict:
    """The tab's charts by id (the ids downloads ask for with ?chart=)."""
    weekly = weekly_chart(data["deploymentsPerWeek"])
    breakdown = data["dora"]["leadTimeForChanges"]["breakdown"]
    parts = bar_chart("Lead time breakdown (medians)", [(label, breakdown[key]["value"]) for key, label in BREAKDOWN],
                      unit=DURATION, orientation=HORIZONTAL, chart_id="lead-time-breakdown", value_name="seconds")
    return {weekly.id: weekly, parts.id: parts}
