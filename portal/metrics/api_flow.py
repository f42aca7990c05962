"""GET /api/v1/metrics/flow and /api/v1/metrics/value-stream: flow metrics and value stream maps.

Both answer aggregates only (counts, durations, shares, and the ages of open items without their
ids or titles), so they are readable by anyone allowed `metrics.flow.read`, whatever requests the
caller may see one by one (docs/metrics.md, "Who sees what").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query

from portal.auth.identity import require
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow.query import entity_links
from portal.metrics.flow_requests import request_flow_metrics
from portal.metrics.flow_scope import exactly_one, request_scope
from portal.metrics.flow_work_items import work_item_flow_metrics
from portal.metrics.value_stream_query import scope_value_stream
from portal.metrics.value_stream_schemas import ValueStreamRead
from portal.metrics.window import Window, window_from_query

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], dependencies=[require("metrics.flow.read")])

PRODUCT = Query(None, max_length=400, description="Platform product ref or name")
CAPABILITY = Query(None, max_length=400, description="Capability ref or name (its orders)")
FROM = Query(None, alias="from", max_length=64, description="Window start, ISO-8601 (default: until − 30 days)")
UNTIL = Query(None, max_length=64, description="Window end, exclusive, ISO-8601 (default: now)")
ENTITY = Query(None, max_length=400, description="Entity ref (its work items, through its jira/project-key, "
                                                 "github.com/project-slug or gitlab.com/project-slug annotation)")
# Week and day slices are computed by date arithmetic, which has no years before 1 or after 9999.
KIND = Query(None, description="With product=: `order` (its capabilities' orders, the default) or `idea`")


FLOW_EXAMPLE = {
    "scope": {"items": "requests", "kind": "order", "product": "platformproduct:default/delivery-platform",
              "capability": "capability:default/ci-pipeline"},
    "window": {"from": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"},
    "velocity": {"finished": 3, "perWeek": 0.677,
                 "weeks": [{"from": "2026-03-01T00:00:00Z", "until": "2026-03-08T00:00:00Z", "finished": 3}]},
    "flowTime": {"samples": 3, "p50": 10800.0, "p85": 18360.0, "p95": 20520.0},
    "efficiency": {"samples": 3, "workTime": 16200.0, "flowTime": 39600.0, "ratio": 0.409},
    "load": {"wip": 4, "ageP50": 1382400.0, "ageP85": 2592000.0,
             "buckets": [{"label": "< 1 day", "fromSeconds": 0, "untilSeconds": 86400, "items": 1}],
             "oldest": [{"ageSeconds": 2592000.0, "state": "fulfilling", "type": "debt"}]},
    "distribution": {"finished": {"feature": {"items": 1, "share": 0.333}, "defect": {"items": 1, "share": 0.333},
                                  "risk": {"items": 1, "share": 0.333}, "debt": {"items": 0, "share": 0.0}},
                     "inProgress": {"feature": {"items": 2, "share": 0.5}, "defect": {"items": 0, "share": 0.0},
                                    "risk": {"items": 1, "share": 0.25}, "debt": {"items": 1, "share": 0.25}}},
    "cumulativeFlow": {"states": ["submitted", "fulfilling", "delivered"],
                       "days": [{"date": "2026-03-01", "at": "2026-03-02T00:00:00Z",
                                 "counts": {"submitted": 0, "fulfilling": 0, "delivered": 1}}]},
}


def metrics_window(from_: str | None, until: str | None) -> Window:
    """The query's window (window_from_query refuses one reaching outside 1970–9000 with a 400)."""
    return window_from_query(from_, until)


@router.get("/value-stream", response_model=ValueStreamRead, response_model_by_alias=True)
def value_stream(session: SessionDep, product: str | None = PRODUCT, capability: str | None = CAPABILITY,
                 from_: str | None = FROM, until: str | None = UNTIL,
                 kind: Literal["order", "idea"] | None = KIND) -> dict:
    """Per stage (in the product's order): items that left it in the window, mean lead and process time
    (seconds) and %C&A; totals ΣLT, ΣPT, activity ratio and rolled %C&A. Nulls where no item left a stage."""
    name, value = exactly_one(product=product, capability=capability)
    window = metrics_window(from_, until)
    scope = request_scope(session, name, value, kind)
    answer = scope_value_stream(session, scope, window)
    return {**scope.json(), "window": window.iso(), **answer}


@router.get("/flow", responses={200: {"description": "Flow metrics; times in seconds, null without samples "
                                                    "(docs/metrics.md, Flow metrics)",
                                     "content": {"application/json": {"example": FLOW_EXAMPLE}}}})
def flow(session: SessionDep, product: str | None = PRODUCT, capability: str | None = CAPABILITY,
         entity: str | None = ENTITY, from_: str | None = FROM, until: str | None = UNTIL,
         kind: Literal["order", "idea"] | None = KIND) -> dict:
    """Flow velocity, flow time p50/p85/p95, flow efficiency, flow load with aging, flow distribution and
    the cumulative flow diagram, for a product's or capability's requests or an entity's work items."""
    name, value = exactly_one(product=product, capability=capability, entity=entity)
    window = metrics_window(from_, until)
    if name == "entity":
        if kind is not None:
            raise CatalogApiError(400, "kind applies to product= only")
        ref, links = entity_links(session, value)
        scope = {"items": "workItems", "entity": ref, "links": [{"annotation": a, "value": v} for a, v in links]}
        return {"scope": scope, "window": window.iso(), **work_item_flow_metrics(session, links, window)}
    scope = request_scope(session, name, value, kind)
    return {"scope": {"items": "requests", **scope.json()}, "window": window.iso(),
            **request_flow_metrics(session, scope, window)}
