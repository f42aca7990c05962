"""An oracle for the value stream map: the same definitions computed naively in Python over timelines.

The portal computes the map in SQL (portal/metrics/value_stream_query.py); property tests compare the
two on generated histories, and the hand-computed scenario checks both.

Definitions (docs/metrics.md, "Value stream map"):
- a *pass* through a stage starts with the event that enters it and ends with the next event;
- a stage's lead time is the mean, over the items that left it in the window, of each item's total
  time in the stage (all its passes);
- its process time is the same mean of the work recorded for each pass (`work_time_seconds` on the
  event that ends it) or, where none is recorded, the whole pass for a work stage and none of it for
  a wait stage;
- its %C&A is the share of its forward exits in the window after which the item never came back to
  this stage or an earlier one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from portal.metrics.stats import mean
from portal.metrics.window import Window
from portal.requests.stages import WORK, ValueStream


@dataclass(frozen=True)
class StageEvent:
    """One stage change of an item's timeline, as the map needs it."""

    at: datetime
    to_stage: str
    work_time_seconds: int | None = None


@dataclass
class _StageTally:
    """What one stage gathers from the items that left it in the window."""

    lead_times: list[float] = field(default_factory=list)
    process_times: list[float] = field(default_factory=list)
    forward_exits: int = 0
    forward_exits_kept: int = 0


@dataclass(frozen=True)
class _Pass:
    stage: str
    seconds: float
    work_seconds: float
    exit_at: datetime
    exit_to: str
    exit_index: int  # index in the timeline of the event that ended the pass


def _passes(timeline: Sequence[StageEvent], stream: ValueStream) -> list[_Pass]:
    """The completed passes of one timeline (ordered by time), each with its recorded or implied work."""
    passes = []
    for index in range(len(timeline) - 1):
        entered, left = timeline[index], timeline[index + 1]
        stage = stream.stage(entered.to_stage)
        if stage is None:
            continue  # a stage the product has since dropped: not on the map
        seconds = max(0.0, (left.at - entered.at).total_seconds())
        if left.work_time_seconds is not None:
            # Recorded work longer than the pass cannot have happened inside it.
            work = min(float(left.work_time_seconds), seconds)
        else:
            work = seconds if stage.type == WORK else 0.0
        passes.append(_Pass(stage.id, seconds, work, left.at, left.to_stage, index + 1))
    return passes


def _came_back(timeline: Sequence[StageEvent], after_index: int, position: int, line: tuple[str, ...]) -> bool:
    """Whether, after the event at `after_index`, the item entered the main-line stage at `position` or earlier."""
    return any(event.to_stage in line and line.index(event.to_stage) <= position
               for event in timeline[after_index + 1:])


def _tally_item(timeline: Sequence[StageEvent], stream: ValueStream, window: Window,
                tallies: dict[str, _StageTally]) -> None:
    line = stream.main_line
    passes = _passes(timeline, stream)
    left_in_window = {item.stage for item in passes if window.contains(item.exit_at)}
    for stage_id in left_in_window:
        if stage_id not in tallies:
            continue
        mine = [item for item in passes if item.stage == stage_id]
        tallies[stage_id].lead_times.append(sum(item.seconds for item in mine))
        tallies[stage_id].process_times.append(sum(item.work_seconds for item in mine))
    for item in passes:
        if item.stage not in tallies or not window.contains(item.exit_at):
            continue
        position = line.index(item.stage)
        if item.exit_to in line and line.index(item.exit_to) > position:
            tally = tallies[item.stage]
            tally.forward_exits += 1
            if not _came_back(timeline, item.exit_index, position, line):
                tally.forward_exits_kept += 1


def _stage_json(stage_id: str, stage_type: str, tally: _StageTally) -> dict:
    accurate = tally.forward_exits_kept / tally.forward_exits if tally.forward_exits else None
    return {"id": stage_id, "type": stage_type, "items": len(tally.lead_times),
            "leadTime": mean(tally.lead_times), "processTime": mean(tally.process_times),
            "percentCompleteAccurate": accurate}


def totals_of(stages: Sequence[dict]) -> dict:
    """ΣLT, ΣPT, activity ratio ΣPT/ΣLT and rolled %C&A over the stages that have values."""
    lead = [stage["leadTime"] for stage in stages if stage["leadTime"] is not None]
    process = [stage["processTime"] for stage in stages if stage["processTime"] is not None]
    accurate = [stage["percentCompleteAccurate"] for stage in stages if stage["percentCompleteAccurate"] is not None]
    total_lead = sum(lead) if lead else None
    total_process = sum(process) if process else None
    ratio = total_process / total_lead if total_lead else None
    return {"leadTime": total_lead, "processTime": total_process, "activityRatio": ratio,
            "rolledPercentCompleteAccurate": math.prod(accurate) if accurate else None}


def value_stream_map(stream: ValueStream, timelines: Iterable[Sequence[StageEvent]], window: Window) -> dict:
    """`{stages, totals}` for the main-line stages of `stream`, in its order, from time-ordered timelines.

    Only events before the window's end are considered; callers may pass longer timelines."""
    tallies = {stage_id: _StageTally() for stage_id in stream.main_line}
    for timeline in timelines:
        seen = [event for event in timeline if event.at < window.end]
        _tally_item(seen, stream, window, tallies)
    stages = [_stage_json(stage_id, stream.stage(stage_id).type, tallies[stage_id]) for stage_id in stream.main_line]
    return {"stages": stages, "totals": totals_of(stages)}
