"""Value streams: the stages a request passes, wait or work, defaults per kind and per-product overrides.

A PlatformProduct may set `spec.valueStream.orders` (for orders of its capabilities) and
`spec.valueStream.ideas`, each `{stages: [{id, type: wait|work, terminal?: bool}]}`: the main line in
order, terminal stages flagged. An override must keep the stage ids the portal itself moves requests
to (REQUIRED_STAGES); one that does not is ignored, with the reason kept in `ValueStream.problems`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

WAIT, WORK = "wait", "work"
STAGE_ID = re.compile(r"[a-z][a-z0-9-]{0,62}", re.ASCII)
MAX_STAGES = 30


@dataclass(frozen=True)
class Stage:
    id: str
    type: str = WAIT
    terminal: bool = False


class StageError(ValueError):
    """A move the value stream does not allow; `status` is the HTTP status that fits."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ValueStream:
    """The stages of one kind of request, and the rules for moving between them."""

    kind: str
    stages: tuple[Stage, ...]
    # Reaching this stage (or any later one, or a terminal one) ends the lead time.
    delivery_stage: str
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def main_line(self) -> tuple[str, ...]:
        return tuple(stage.id for stage in self.stages if not stage.terminal)

    @property
    def initial(self) -> str:
        return self.main_line[0]

    @property
    def final(self) -> str:
        return self.main_line[-1]

    def stage(self, stage_id: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.id == stage_id), None)

    def is_terminal(self, stage_id: str) -> bool:
        stage = self.stage(stage_id)
        return stage is not None and stage.terminal

    def next_after(self, stage_id: str) -> str | None:
        line = self.main_line
        if stage_id not in line or stage_id == line[-1]:
            return None
        return line[line.index(stage_id) + 1]

    def ends_lead_time(self, stage_id: str) -> bool:
        line = self.main_line
        if self.is_terminal(stage_id):
            return True
        return stage_id in line and line.index(stage_id) >= line.index(self.delivery_stage)

    def check_move(self, current: str, target: str, last_main_line_stage: str | None) -> bool:
        """Whether moving `current` -> `target` is rework; StageError when the move is not allowed.

        Forward moves may skip stages. Going back is allowed and is rework, and so is leaving a terminal
        stage for the main-line stage it was entered from, or an earlier one (a failed order retried).
        A terminal stage can be entered from any stage but the final one: a request whose value is
        confirmed is finished, and reopening it means moving it back first."""
        if self.stage(target) is None:
            known = ", ".join(stage.id for stage in self.stages)
            raise StageError(422, f"{target!r} is not a stage of this {self.kind}; stages are: {known}")
        if target == current:
            raise StageError(409, f"The {self.kind} is already in stage {current!r}")
        if self.is_terminal(target):
            if current == self.final:
                raise StageError(409, f"The {self.kind} is finished ({current!r}); "
                                      f"move it back before ending it as {target!r}")
            return False
        line = self.main_line
        if self.is_terminal(current) or current not in line:
            # Reopened: compared with the stage it was in before it ended.
            reference = last_main_line_stage if last_main_line_stage in line else line[0]
            return line.index(target) <= line.index(reference)
        return line.index(target) < line.index(current)


ORDER_STAGES = (
    Stage("submitted"), Stage("awaiting-approval"), Stage("fulfilling", WORK), Stage("delivered"),
    Stage("in-use"), Stage("value-confirmed"),
    Stage("failed", terminal=True), Stage("cancelled", terminal=True), Stage("rejected", terminal=True),
)
IDEA_STAGES = (
    Stage("submitted"), Stage("triaged"), Stage("planned"), Stage("in-progress", WORK), Stage("released"),
    Stage("adopted"), Stage("value-realized"), Stage("rejected", terminal=True),
)
DEFAULT_STREAMS = {
    "order": ValueStream("order", ORDER_STAGES, delivery_stage="delivered"),
    "idea": ValueStream("idea", IDEA_STAGES, delivery_stage="released"),
}
# The stages the portal moves requests to by itself (intake, decisions, automation, value, flow data).
REQUIRED_STAGES = {
    "order": {"submitted": False, "awaiting-approval": False, "fulfilling": False, "delivered": False,
              "in-use": False, "value-confirmed": False, "failed": True, "cancelled": True, "rejected": True},
    "idea": {"submitted": False, "released": False, "rejected": True},
}
OVERRIDE_KEYS = {"order": "orders", "idea": "ideas"}
# Reaching any of these stages means an order was delivered: the value metrics date it from the first
# (portal/metrics/entities.py), whatever happened after.
DELIVERED_STAGES = ("delivered", "in-use", "value-confirmed")


def first_delivery(moves: Iterable[tuple[datetime, str]]) -> datetime | None:
    """`Request.delivered_at` from a request's (at, to_stage) moves: the earliest arrival at a delivered stage."""
    return min((at for at, stage in moves if stage in DELIVERED_STAGES), default=None)


def value_stream_for(kind: str, product: dict | None) -> ValueStream:
    """The stages of `kind` requests for a product: its `spec.valueStream` override, or the defaults."""
    default = DEFAULT_STREAMS[kind]
    spec = (product or {}).get("spec") or {}
    overrides = spec.get("valueStream") if isinstance(spec, dict) else None
    if not isinstance(overrides, dict) or OVERRIDE_KEYS[kind] not in overrides:
        return default
    stages, problems = _parse_override(kind, overrides[OVERRIDE_KEYS[kind]])
    if problems:
        return ValueStream(kind, default.stages, default.delivery_stage, tuple(problems))
    return ValueStream(kind, tuple(stages), default.delivery_stage)


def _parse_override(kind: str, override: object) -> tuple[list[Stage], list[str]]:
    where = f"spec.valueStream.{OVERRIDE_KEYS[kind]}.stages"
    items = override.get("stages") if isinstance(override, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_STAGES:
        return [], [f"{where} must be a list of 1 to {MAX_STAGES} stages"]
    stages: list[Stage] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        stage_id = item.get("id") if isinstance(item, dict) else None
        stage_type = item.get("type", WAIT) if isinstance(item, dict) else None
        terminal = item.get("terminal", False) if isinstance(item, dict) else None
        if not isinstance(stage_id, str) or not STAGE_ID.fullmatch(stage_id):
            problems.append(f"{where}[{index}].id must be lower-case letters, digits and dashes")
        elif any(stage.id == stage_id for stage in stages):
            problems.append(f"{where}[{index}].id {stage_id!r} appears twice")
        elif stage_type not in (WAIT, WORK) or not isinstance(terminal, bool):
            problems.append(f"{where}[{index}] needs type wait or work and a true/false terminal")
        else:
            stages.append(Stage(stage_id, stage_type, terminal))
    found = {stage.id: stage.terminal for stage in stages}
    for stage_id, terminal in REQUIRED_STAGES[kind].items():
        if stage_id not in found:
            problems.append(f"{where} lacks the stage {stage_id!r} that the portal moves requests to")
        elif found[stage_id] != terminal:
            problems.append(f"{where}: {stage_id!r} must {'' if terminal else 'not '}be terminal")
    return stages, problems


def all_stage_ids() -> set[str]:
    """Every default stage id of either kind."""
    return {stage.id for stream in DEFAULT_STREAMS.values() for stage in stream.stages}
