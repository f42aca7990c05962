"""How flow records merge over time, defined once for every writer (webhooks, pull sync, replay).

- **Order of states.** Two events with the same time are ordered by the lifecycle: the later state wins
  (queued < pending < in_progress/running < success/failure/error/cancelled/unknown), so a `success` and a
  `running` stamped with the same second end as `success` whatever order they arrive in.
- **Columns bound to a state.** A finish or resolution time only exists while the record is in a state
  that has one: a reopened issue or incident has no `resolved_at`, a re-run pipeline no `finished_at`.
  The rule is applied to the merged row, so an old `closed` event arriving late cannot bring one back.
- **Earliest wins.** When an incident began does not move: of every `created_at` seen, the earliest stays.
"""

from __future__ import annotations

from collections.abc import Mapping

_RUN_RANKS = {"queued": 0, "pending": 1, "in_progress": 2, "running": 2,
              "success": 3, "failure": 3, "error": 3, "cancelled": 3, "unknown": 3}
# kind -> (the column holding its lifecycle state, {state: rank}); later in the lifecycle = higher.
LIFECYCLES: Mapping[str, tuple[str, Mapping[str, int]]] = {
    "pipeline_run": ("status", _RUN_RANKS),
    "deployment": ("status", _RUN_RANKS),
    "incident": ("status", {"triggered": 0, "acknowledged": 1, "resolved": 2}),
    "change": ("state", {"open": 0, "closed": 1, "merged": 2}),
    "work_item": ("status_category", {"todo": 0, "in_progress": 1, "done": 2}),
}
STATE_COLUMN: Mapping[str, str] = {kind: column for kind, (column, _) in LIFECYCLES.items()}

FINISHED_RUN_STATES = frozenset({"success", "failure", "error", "cancelled", "unknown"})

# kind -> {column: states in which the column may hold a value}; in any other known state it is cleared.
STATE_BOUND_COLUMNS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "pipeline_run": {"finished_at": FINISHED_RUN_STATES},
    "deployment": {"finished_at": FINISHED_RUN_STATES},
    "incident": {"resolved_at": frozenset({"resolved"})},
    "change": {"closed_at": frozenset({"closed", "merged"}), "merged_at": frozenset({"merged"})},
    "work_item": {"resolved_at": frozenset({"done"})},
}

# kind -> columns where the earliest known value is kept.
EARLIEST_COLUMNS: Mapping[str, frozenset[str]] = {
    "incident": frozenset({"created_at", "acknowledged_at"}),
}


def state_rank(kind: str, state: object) -> int:
    """Where a state sits in its kind's lifecycle; -1 for unknown states (they never win a tie)."""
    ranks = LIFECYCLES[kind][1] if kind in LIFECYCLES else {}
    return ranks.get(state, -1) if isinstance(state, str) else -1


def is_older(kind: str, candidate: Mapping, current: Mapping) -> bool:
    """Whether the event behind `candidate` values comes before the one behind `current` values:
    an earlier `source_updated_at`, or the same one with an earlier lifecycle state.
    Without both times nothing is older (arrival order decides, as it always did)."""
    mine, theirs = candidate.get("source_updated_at"), current.get("source_updated_at")
    if mine is None or theirs is None:
        return False
    if mine != theirs:
        return mine < theirs
    column = STATE_COLUMN.get(kind)
    if column is None:
        return False
    return state_rank(kind, candidate.get(column)) < state_rank(kind, current.get(column))


def apply_state_bounds(kind: str, values: dict) -> dict:
    """`values` with every column its state does not allow set to None (state unknown: left alone)."""
    column = STATE_COLUMN.get(kind)
    state = values.get(column) if column else None
    if state is None:
        return values
    for name, allowed in STATE_BOUND_COLUMNS.get(kind, {}).items():
        if state not in allowed:
            values[name] = None
    return values
