"""bench/webhook_end_to_end.py: polled inbox samples become the backlog, drain and end-to-end figures."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.webhook_end_to_end import MIX, backlog_figures, mix_entries, slope, sustainable_rate


def test_a_worker_that_keeps_up_leaves_a_bounded_backlog_that_drains():
    # 100/s: a 1 s ramp, measured from 1 s to 5 s, the sample at the load's end at 5.1 s.
    samples = [(0.5, 40, 10), (1.0, 100, 20), (2.0, 200, 10), (3.0, 300, 20), (4.0, 400, 10),
               (5.1, 550, 30), (5.6, 550, 5), (6.1, 550, 0), (6.6, 550, 0)]
    figures = backlog_figures(samples, first_send=0.0, measured_from=1.0, load_end=5.0, rate=100)
    # Pending from 1 to 4 s: 20, 10, 20, 10: slope -10 / 5 = -2 per second.
    assert figures == {
        "processed_at_load_end": 520, "backlog_at_load_end": 30, "max_backlog_during_load": 30,
        "backlog_growth_per_second": -2.0, "backlog_grew": False,
        "drain_seconds": 1.1, "end_to_end_seconds": 6.1, "end_to_end_per_second": 90.2,  # 550 / 6.1
    }


def test_a_backlog_rising_with_the_load_grew_and_one_never_emptied_has_no_drain():
    samples = [(1.0, 1000, 50), (2.0, 1100, 150), (3.0, 1200, 250), (4.0, 1300, 350), (4.5, 1300, 300)]
    figures = backlog_figures(samples, first_send=0.0, measured_from=0.0, load_end=4.0, rate=100)
    # 100 more waiting each second (over 2 % of the rate) and 350 (over a second's 100) at the end.
    assert figures["backlog_growth_per_second"] == 100.0
    assert figures["backlog_grew"] is True
    assert (figures["processed_at_load_end"], figures["backlog_at_load_end"]) == (950, 350)
    assert figures["max_backlog_during_load"] == 350
    assert figures["drain_seconds"] is figures["end_to_end_seconds"] is figures["end_to_end_per_second"] is None


def test_a_rising_backlog_under_a_second_of_deliveries_is_still_bounded():
    samples = [(1.0, 100, 10), (2.0, 200, 20), (3.0, 300, 30), (3.2, 310, 0)]
    figures = backlog_figures(samples, first_send=0.0, measured_from=0.0, load_end=3.0, rate=100)
    # Rising 10/s (10 % of the rate), but 30 waiting at the end is less than one second's 100.
    assert figures["backlog_growth_per_second"] == 10.0
    assert figures["backlog_grew"] is False
    assert figures["drain_seconds"] == 0.2
    assert figures["end_to_end_per_second"] == pytest.approx(310 / 3.2, abs=0.05)


def test_nothing_waiting_at_the_end_of_the_load_drains_in_no_time():
    samples = [(-0.1, 0, 0), (2.0, 200, 0), (2.0, 200, 0)]
    figures = backlog_figures(samples, first_send=0.0, measured_from=0.0, load_end=2.0, rate=100)
    assert (figures["drain_seconds"], figures["end_to_end_seconds"], figures["end_to_end_per_second"]) == (0.0, 2.0, 100.0)


def test_slope_needs_two_distinct_times():
    assert slope([]) == slope([(1.0, 5.0)]) == slope([(1.0, 5.0), (1.0, 9.0)]) == 0.0
    assert slope([(0.0, 1.0), (2.0, 5.0)]) == 2.0


def test_the_sustainable_rate_is_the_highest_that_kept_up():
    def run(rate, grew=False, lost=False, drain=0.5, p99=20.0, unanswered=0):
        return {"rate": rate, "backlog_grew": grew, "zero_lost": not lost, "drain_seconds": drain,
                "sent": rate * 65, "acknowledged": rate * 65 - unanswered, "latency_ms": {"p99": p99}}

    assert sustainable_rate([run(500), run(1000), run(1500, grew=True)]) == 1000
    assert sustainable_rate([run(500), run(1000, lost=True), run(1500, drain=None)]) == 500
    assert sustainable_rate([run(500, grew=True)]) is None
    # The worker kept up but the intake did not: seconds of waiting, or deliveries never answered.
    assert sustainable_rate([run(500), run(1000, p99=2380.6), run(1500, unanswered=13262)]) == 500
    assert sustainable_rate([run(500, p99=1000.0), run(1000, p99=1000.1)]) == 500
    assert sustainable_rate([run(500, p99=None)]) is None


def test_the_mix_sends_each_payload_as_often_as_its_weight_in_a_fixed_order():
    entries = mix_entries()
    assert Counter((entry["event"], entry["body"].split("octokit-webhooks/")[1]) for entry in entries) == {
        (event, path): weight for event, path, weight in MIX}
    assert entries == mix_entries()
