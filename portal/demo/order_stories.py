"""How one order moves through its value stream: the events from intake to where the demo leaves it.

Each story follows the capability's fulfilment mode: automated orders go from `submitted` straight to
`fulfilling` by automation in minutes; approval ones wait in `awaiting-approval` for an approver;
manual ones wait in `submitted` for the owners' queue. A few delivered orders are sent back (rework)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.demo.organisation import Capability

SUBMITTED, AWAITING, FULFILLING, DELIVERED = "submitted", "awaiting-approval", "fulfilling", "delivered"
IN_USE, CONFIRMED, FAILED, REJECTED, CANCELLED = "in-use", "value-confirmed", "failed", "rejected", "cancelled"
# Where a story may end, per fulfilment mode (only approval orders can wait for or fail an approval).
OUTCOMES = {
    "approval": (AWAITING, FULFILLING, DELIVERED, IN_USE, CONFIRMED, FAILED, REJECTED, CANCELLED),
    "automated": (SUBMITTED, FULFILLING, DELIVERED, IN_USE, CONFIRMED, FAILED, CANCELLED),
    "manual": (SUBMITTED, FULFILLING, DELIVERED, IN_USE, CONFIRMED, FAILED, CANCELLED),
}
OPEN_OUTCOMES = (SUBMITTED, AWAITING, FULFILLING)
FAILURE_NOTES = ("Step publish failed: the registry answered 503", "Quota exceeded in the target account",
                 "Step create-repository failed: name already taken")
REJECTION_NOTES = ("This needs a cost centre; please reorder with one", "Use the shared cluster instead",
                   "Duplicate of an order already in progress")
REWORK_NOTES = ("Delivered with the wrong size; redoing", "Credentials were missing from the vault path")


@dataclass
class Event:
    at: datetime
    actor: str
    from_stage: str | None
    to_stage: str
    source: str
    note: str | None = None
    work_time_seconds: int | None = None
    is_rework: bool = False


@dataclass
class Story:
    events: list[Event] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return self.events[-1].to_stage

    @property
    def last_at(self) -> datetime:
        return self.events[-1].at

    def move(self, to: str, after: timedelta, actor: str, source: str = "user", note: str | None = None,
             work_time: timedelta | None = None, rework: bool = False) -> None:
        self.events.append(Event(self.last_at + after, actor, self.stage, to, source, note,
                                 int(work_time.total_seconds()) if work_time is not None else None, rework))

    def shifted(self, by: timedelta) -> Story:
        return Story([Event(**{**event.__dict__, "at": event.at + by}) for event in self.events])


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def order_story(rng: random.Random, capability: Capability, outcome: str, created: datetime, requester: str,
                fulfiller: str, note: str) -> Story:
    """The events of one order from `created` until it reaches `outcome`."""
    mode = capability.mode if capability.mode in OUTCOMES else "manual"
    first = AWAITING if mode == "approval" else SUBMITTED
    story = Story([Event(created, requester, None, first, "user", note)])
    if outcome == first:
        return story
    if outcome == CANCELLED:
        story.move(CANCELLED, _minutes(rng, 30, 2 * 24 * 60), requester, note="No longer needed")
        return story
    if outcome == REJECTED:
        story.move(REJECTED, _minutes(rng, 60, 3 * 24 * 60), fulfiller, note=rng.choice(REJECTION_NOTES))
        return story
    _start_fulfilment(rng, story, mode, fulfiller)
    if outcome == FULFILLING:
        return story
    if outcome == FAILED:
        story.move(FAILED, _minutes(rng, 2, 120), "automation", "automation", rng.choice(FAILURE_NOTES))
        return story
    _deliver(rng, story, mode, fulfiller)
    if rng.random() < 0.1:  # sent back after delivery: rework, then delivered again
        story.move(FULFILLING, _minutes(rng, 6 * 60, 3 * 24 * 60), requester, note=rng.choice(REWORK_NOTES),
                   rework=True)
        _deliver(rng, story, mode, fulfiller)
    if outcome == DELIVERED:
        return story
    story.move(IN_USE, _minutes(rng, 24 * 60, 7 * 24 * 60), requester, note="Using it")
    if outcome == CONFIRMED:
        story.move(CONFIRMED, _minutes(rng, 3 * 24 * 60, 30 * 24 * 60), requester)
    return story


def _start_fulfilment(rng: random.Random, story: Story, mode: str, fulfiller: str) -> None:
    if mode == "automated":
        story.move(FULFILLING, _minutes(rng, 0.2, 3), "automation", "automation", "Template run started")
    elif mode == "approval":
        story.move(FULFILLING, _minutes(rng, 90, 4 * 24 * 60), fulfiller, note="Approved")
    else:
        story.move(FULFILLING, _minutes(rng, 4 * 60, 5 * 24 * 60), fulfiller, note="Picked up from the queue")


def _deliver(rng: random.Random, story: Story, mode: str, fulfiller: str) -> None:
    if mode == "automated":
        work = _minutes(rng, 2, 14)
        story.move(DELIVERED, work, "automation", "automation", "Template run completed", work_time=work)
    else:
        elapsed = _minutes(rng, 60, 30 * 60)
        story.move(DELIVERED, elapsed, fulfiller, note="Done", work_time=elapsed * rng.uniform(0.3, 0.9))
