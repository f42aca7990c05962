"""Order stories follow the capability's fulfilment mode, and lead times end where the service ends them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from portal.demo.order_stories import OUTCOMES, order_story
from portal.demo.organisation import Capability
from portal.demo.requests_data import lead_time_end
from portal.requests.stages import DEFAULT_STREAMS

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _capability(mode: str) -> Capability:
    return Capability("capability:default/x", "x", "X", "platformproduct:default/p", "group:default/owners", mode,
                      "PT1H", "PT2H", None)


@pytest.mark.parametrize("mode", sorted(OUTCOMES))
def test_every_outcome_is_a_legal_walk_through_the_value_stream(mode: str) -> None:
    stream = DEFAULT_STREAMS["order"]
    for seed in range(30):
        for outcome in OUTCOMES[mode]:
            story = order_story(random.Random(seed), _capability(mode), outcome, START, "user:default/a",
                                "user:default/b", "note")
            assert story.stage == outcome
            assert story.events[0].to_stage == ("awaiting-approval" if mode == "approval" else "submitted")
            for before, after in zip(story.events, story.events[1:]):
                assert after.at > before.at and after.from_stage == before.to_stage
                # The real rules: check_move raises for an illegal move and says whether it is rework.
                assert stream.check_move(before.to_stage, after.to_stage, None) == after.is_rework


def test_automated_orders_are_fulfilled_by_automation_in_minutes() -> None:
    story = order_story(random.Random(1), _capability("automated"), "delivered", START, "user:default/a",
                        "user:default/b", "note")
    fulfilling, delivered = story.events[1], story.events[2]
    assert (fulfilling.source, delivered.source) == ("automation", "automation")
    assert delivered.at - fulfilling.at < timedelta(minutes=15)
    assert delivered.work_time_seconds == int((delivered.at - fulfilling.at).total_seconds())


def test_lead_time_ends_at_delivery_and_restarts_when_reopened() -> None:
    times = [START + timedelta(hours=hours) for hours in range(5)]
    assert lead_time_end("order", list(zip(times, ["submitted", "fulfilling", "delivered", "fulfilling",
                                                   "delivered"]))) == times[4]
    assert lead_time_end("order", list(zip(times, ["submitted", "fulfilling", "delivered", "in-use"]))) == times[2]
    assert lead_time_end("order", list(zip(times, ["submitted", "failed"]))) == times[1]
    assert lead_time_end("order", list(zip(times, ["submitted", "fulfilling"]))) is None
