"""The value stream map's arithmetic on per-stage aggregates: stage values, totals, the answer's shape.

The aggregates come from SQL (`value_stream_query.py`); definitions are in docs/metrics.md,
"Value stream map".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portal.requests.stages import ValueStream


@dataclass(frozen=True)
class StageAggregate:
    """What the items that left one stage in the window add up to."""

    items: int
    lead_time_sum: float  # Σ over those items of their total time in the stage
    process_time_sum: float
    forward_exits: int
    forward_exits_kept: int  # forward exits after which the item never came back to this stage or before


def stage_json(stage_id: str, stage_type: str, aggregate: StageAggregate | None) -> dict:
    """One stage of the map: means over the items that left it, %C&A over its forward exits."""
    if aggregate is None or aggregate.items == 0:
        return {"id": stage_id, "type": stage_type, "items": 0, "leadTime": None, "processTime": None,
                "percentCompleteAccurate": None}
    accurate = aggregate.forward_exits_kept / aggregate.forward_exits if aggregate.forward_exits else None
    return {"id": stage_id, "type": stage_type, "items": aggregate.items,
            "leadTime": aggregate.lead_time_sum / aggregate.items,
            "processTime": aggregate.process_time_sum / aggregate.items, "percentCompleteAccurate": accurate}


def totals_of(stages: Sequence[dict]) -> dict:
    """ΣLT, ΣPT, activity ratio ΣPT/ΣLT and rolled %C&A (the product) over the stages that have values."""
    lead = [stage["leadTime"] for stage in stages if stage["leadTime"] is not None]
    process = [stage["processTime"] for stage in stages if stage["processTime"] is not None]
    accurate = [stage["percentCompleteAccurate"] for stage in stages if stage["percentCompleteAccurate"] is not None]
    total_lead = sum(lead) if lead else None
    total_process = sum(process) if process else None
    ratio = total_process / total_lead if total_lead else None
    return {"leadTime": total_lead, "processTime": total_process, "activityRatio": ratio,
            "rolledPercentCompleteAccurate": math.prod(accurate) if accurate else None}


def value_stream_answer(stream: ValueStream, aggregates: Mapping[str, StageAggregate]) -> dict:
    """`{stages, totals}` for the main-line stages of `stream`, in its order."""
    stages = [stage_json(stage_id, stream.stage(stage_id).type, aggregates.get(stage_id))
              for stage_id in stream.main_line]
    return {"stages": stages, "totals": totals_of(stages)}
