"""Flow Framework metrics over items of any source: velocity, time, efficiency, load with aging,
distribution and the cumulative flow diagram.

Pure functions over `FlowItem`s (plain data) that `flow_requests.py` (requests) and
`flow_work_items.py` (Jira, GitHub, GitLab work items) build. Formulas: docs/metrics.md, "Flow metrics".
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from datetime import datetime, timedelta

from portal.flow.query import iso
from portal.metrics.stats import percentile
from portal.metrics.window import Window

FLOW_TYPES = ("feature", "defect", "risk", "debt")
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# Aging buckets: (label, upper bound in seconds, exclusive); the last has none.
AGE_BUCKETS = (("< 1 day", 86_400), ("1–7 days", 7 * 86_400), ("7–30 days", 30 * 86_400),
               ("30–90 days", 90 * 86_400), ("≥ 90 days", None))
MAX_AGING_ITEMS = 500


@dataclass(frozen=True)
class Pass:
    """A stretch of time an item spent in one state; `end` None while it is still there."""

    state: str
    start: datetime
    end: datetime | None
    # Work recorded for this pass (seconds), else None: then a work state counts whole, others not.
    recorded_work: float | None = None


@dataclass(frozen=True)
class FlowItem:
    """One request or work item as the metrics see it, as of the window's end."""

    created_at: datetime
    flow_type: str
    passes: tuple[Pass, ...]
    # First arrival at delivery / done before the window's end, else None. The first, so that what a
    # window says was finished stays true however much later history is added.
    finished_at: datetime | None
    # In progress at the window's end: in a stage before delivery (requests) or not done (work items),
    # reopened items included; finished, cancelled, rejected and failed items are not.
    in_progress: bool
    label: str | None = None  # shown in the aging list (work item keys); None for requests

    def state_at(self, at: datetime) -> str | None:
        """The state the item was in at `at`; None before it existed."""
        current = None
        for item in self.passes:
            if item.start > at:
                break
            current = item.state
        return current


def work_until(passes: Sequence[Pass], finished_at: datetime, work_states: frozenset[str]) -> float:
    """Work between creation and finishing: recorded per pass (at most the pass), else the whole pass of a work
    state (the request writers keep this per request too: portal/requests/passes.py)."""
    total = 0.0
    for one in passes:
        end = min(one.end or finished_at, finished_at)
        if end <= one.start:
            continue
        seconds = (end - one.start).total_seconds()
        if one.recorded_work is not None:
            total += min(one.recorded_work, seconds)
        elif one.state in work_states:
            total += seconds
    return total


def finished_in(items: Sequence[FlowItem], window: Window) -> list[FlowItem]:
    return [item for item in items if window.contains(item.finished_at)]


def velocity(items: Sequence[FlowItem], window: Window) -> dict:
    """Items finished in the window, in total, per week on average, and week by week from its start."""
    done = finished_in(items, window)
    weeks = []
    start = window.start
    while start < window.end:
        end = min(start + WEEK, window.end)
        part = Window(start, end)
        weeks.append({"from": iso(start), "until": iso(end), "finished": sum(part.contains(i.finished_at) for i in done)})
        start = end
    return {"finished": len(done), "perWeek": len(done) / window.weeks, "weeks": weeks}


def flow_time(items: Sequence[FlowItem], window: Window) -> dict:
    """Percentiles (seconds) of creation → finish over the items finished in the window."""
    return flow_time_of([(item.finished_at - item.created_at).total_seconds() for item in finished_in(items, window)])


def flow_time_of(samples: Sequence[float]) -> dict:
    return {"samples": len(samples), "p50": percentile(samples, 0.5), "p85": percentile(samples, 0.85),
            "p95": percentile(samples, 0.95)}


def flow_efficiency(items: Sequence[FlowItem], window: Window, work_states: frozenset[str]) -> dict:
    """Σ work time ÷ Σ flow time over the items finished in the window (0–1; None without flow time)."""
    done = finished_in(items, window)
    return efficiency_of([(item.finished_at - item.created_at).total_seconds() for item in done],
                         [work_until(item.passes, item.finished_at, work_states) for item in done])


def efficiency_of(flow_seconds: Sequence[float], work_seconds: Sequence[float]) -> dict:
    """Flow efficiency of finished items from their flow and work times (summed in the order given)."""
    flow, work = sum(flow_seconds), sum(work_seconds)
    return {"samples": len(flow_seconds), "workTime": work, "flowTime": flow, "ratio": work / flow if flow > 0 else None}


def flow_load(items: Sequence[FlowItem], window: Window) -> dict:
    """Items in progress at the window's end, with their ages (end − creation) in buckets and the oldest listed."""
    open_items = [item for item in items if item.in_progress]
    ages = sorted((((window.end - item.created_at).total_seconds(), item) for item in open_items),
                  key=lambda pair: pair[0])
    buckets, lower = [], 0
    for label, upper in AGE_BUCKETS:
        count = sum(1 for age, _ in ages if age >= lower and (upper is None or age < upper))
        buckets.append({"label": label, "fromSeconds": lower, "untilSeconds": upper, "items": count})
        lower = upper or lower
    oldest = [{"ageSeconds": age, "state": item.state_at(window.end), "type": item.flow_type,
               **({"key": item.label} if item.label else {})}
              for age, item in reversed(ages[-MAX_AGING_ITEMS:])]
    ages_only = [age for age, _ in ages]
    return {"wip": len(open_items), "ageP50": percentile(ages_only, 0.5), "ageP85": percentile(ages_only, 0.85),
            "buckets": buckets, "oldest": oldest}


def flow_distribution(items: Sequence[FlowItem], window: Window) -> dict:
    """Counts and shares by flow item type, of the items finished in the window and of those in progress at its end."""
    def shares(chosen: list[FlowItem]) -> dict:
        counts = Counter(item.flow_type for item in chosen)
        total = len(chosen)
        return {kind: {"items": counts.get(kind, 0), "share": counts.get(kind, 0) / total if total else None}
                for kind in FLOW_TYPES}

    return {"finished": shares(finished_in(items, window)),
            "inProgress": shares([item for item in items if item.in_progress])}


def days_of(window: Window) -> tuple[list[datetime], list[datetime]]:
    """The window's days: when each starts, and the moment the diagram counts it at (its end, or the
    window's end for the last)."""
    starts, moments = [], []
    start = window.start
    while start < window.end:
        starts.append(start)
        moments.append(min(start + DAY, window.end))
        start = moments[-1]
    return starts, moments


def flow_diagram(window: Window, states: Sequence[str], changes: Mapping[str, list[int]],
                 baseline: Mapping[str, int] | None = None) -> dict:
    """The diagram's answer from per-state difference arrays over the window's days (len(days) + 1 each:
    +n at the first day an item is counted in the state, −n at the first day it no longer is)."""
    starts, moments = days_of(window)
    totals = {state: [count + (baseline or {}).get(state, 0) for count in accumulate(changes[state][:-1])]
              for state in states}
    days = [{"date": starts[index].date().isoformat(), "at": iso(moment),
             "counts": {state: totals[state][index] for state in states}}
            for index, moment in enumerate(moments)]
    return {"states": list(states), "days": days}


def cumulative_flow(items: Sequence[FlowItem], window: Window, states: Sequence[str],
                    baseline: Mapping[str, int] | None = None) -> dict:
    """Per day of the window: how many items were in each state at the day's end (or the window's end),
    plus `baseline`: items that stayed in one state through the whole window, counted by the caller.

    Each pass adds one to its state for the days whose end falls inside it, through a difference array,
    so the work grows with passes plus days, not with their product."""
    _, moments = days_of(window)
    changes = {state: [0] * (len(moments) + 1) for state in states}
    for item in items:
        for one in item.passes:
            if one.state not in changes:
                continue
            # In this state at the day's end m when start < m <= end (the pass ends as the next one starts).
            first = bisect_right(moments, one.start)
            after = max(first, len(moments) if one.end is None else bisect_right(moments, one.end))
            changes[one.state][first] += 1
            changes[one.state][after] -= 1
    return flow_diagram(window, states, changes, baseline)


def flow_metrics(items: Sequence[FlowItem], window: Window, *, work_states: frozenset[str],
                 states: Sequence[str], baseline: Mapping[str, int] | None = None) -> dict:
    """Every flow metric of `items` over `window`, in the API's shape. `baseline` counts, per state, items
    left out of `items` because nothing about them changes in the window and they are not in progress."""
    return {
        "velocity": velocity(items, window),
        "flowTime": flow_time(items, window),
        "efficiency": flow_efficiency(items, window, work_states),
        "load": flow_load(items, window),
        "distribution": flow_distribution(items, window),
        "cumulativeFlow": cumulative_flow(items, window, states, baseline),
    }
