"""Value streams: default stages, wait and work, rework, terminal stages and product overrides."""

from __future__ import annotations

import pytest

from portal.requests.stages import DEFAULT_STREAMS, WORK, StageError, value_stream_for

ORDERS, IDEAS = DEFAULT_STREAMS["order"], DEFAULT_STREAMS["idea"]


def test_default_stages_and_their_types():
    assert ORDERS.main_line == ("submitted", "awaiting-approval", "fulfilling", "delivered", "in-use",
                                "value-confirmed")
    assert [s.id for s in ORDERS.stages if s.terminal] == ["failed", "cancelled", "rejected"]
    assert IDEAS.main_line == ("submitted", "triaged", "planned", "in-progress", "released", "adopted",
                               "value-realized")
    assert [s.id for s in IDEAS.stages if s.terminal] == ["rejected"]
    work = {s.id for stream in (ORDERS, IDEAS) for s in stream.stages if s.type == WORK}
    assert work == {"fulfilling", "in-progress"}


def test_forward_moves_may_skip_and_are_not_rework():
    assert ORDERS.check_move("submitted", "fulfilling", None) is False
    assert ORDERS.check_move("fulfilling", "in-use", None) is False


def test_moving_back_is_rework():
    assert ORDERS.check_move("delivered", "fulfilling", None) is True
    assert IDEAS.check_move("released", "triaged", None) is True


def test_leaving_a_terminal_stage_is_rework_up_to_where_it_was_entered():
    assert ORDERS.check_move("failed", "fulfilling", "fulfilling") is True
    assert ORDERS.check_move("failed", "submitted", "fulfilling") is True
    assert ORDERS.check_move("failed", "delivered", "fulfilling") is False


def test_terminal_stages_can_be_entered_from_anywhere_but_the_end():
    for stage in ("submitted", "awaiting-approval", "fulfilling", "delivered", "in-use", "failed"):
        assert ORDERS.check_move(stage, "cancelled", None) is False
    with pytest.raises(StageError) as finished:
        ORDERS.check_move("value-confirmed", "cancelled", None)
    assert finished.value.status == 409


def test_unknown_and_unchanged_stages_are_refused():
    with pytest.raises(StageError) as unknown:
        ORDERS.check_move("submitted", "teleported", None)
    assert unknown.value.status == 422 and "awaiting-approval" in unknown.value.message
    with pytest.raises(StageError) as same:
        ORDERS.check_move("submitted", "submitted", None)
    assert same.value.status == 409
    with pytest.raises(StageError):
        IDEAS.check_move("submitted", "fulfilling", None)  # an order stage, not an idea's


def test_lead_time_ends_at_delivery_or_an_end():
    assert [s for s in ORDERS.main_line if ORDERS.ends_lead_time(s)] == ["delivered", "in-use", "value-confirmed"]
    assert ORDERS.ends_lead_time("cancelled") and not ORDERS.ends_lead_time("fulfilling")
    assert IDEAS.ends_lead_time("released") and not IDEAS.ends_lead_time("planned")


def _product(ideas: list[dict]) -> dict:
    return {"kind": "PlatformProduct", "spec": {"valueStream": {"ideas": {"stages": ideas}}}}


def test_a_product_overrides_its_idea_stages():
    stream = value_stream_for("idea", _product([
        {"id": "submitted"}, {"id": "discovery", "type": "work"}, {"id": "released"},
        {"id": "rejected", "terminal": True}]))
    assert stream.main_line == ("submitted", "discovery", "released") and not stream.problems
    assert stream.stage("discovery").type == WORK and stream.stage("submitted").type == "wait"
    assert value_stream_for("order", _product([])) is ORDERS  # orders keep the defaults


@pytest.mark.parametrize(("stages", "problem"), [
    ([{"id": "submitted"}, {"id": "rejected", "terminal": True}], "'released'"),
    ([{"id": "submitted"}, {"id": "released"}, {"id": "rejected"}], "must be terminal"),
    ([{"id": "submitted"}, {"id": "submitted"}], "appears twice"),
    ([{"id": "Not An Id"}], "lower-case"),
    ([{"id": "submitted", "type": "sleep"}], "type wait or work"),
    ("submitted", "must be a list"),
    ([], "must be a list"),
])
def test_an_override_that_breaks_the_rules_is_ignored_with_its_reason(stages, problem):
    stream = value_stream_for("idea", _product(stages))
    assert stream.main_line == IDEAS.main_line
    assert any(problem in text for text in stream.problems), stream.problems


def test_products_without_an_override_use_the_defaults():
    assert value_stream_for("order", None) is ORDERS
    assert value_stream_for("idea", {"spec": {"valueStream": "odd"}}) is IDEAS
