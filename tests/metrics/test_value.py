"""Value-realized building blocks on their own: periods, the rating split, SLA edge cases."""

from datetime import UTC, datetime, timedelta

from portal.metrics.entities import Adoption
from portal.metrics.value import adoption, periods, satisfaction, sla, time_saved
from portal.metrics.window import Window
from portal.requests.models import Request


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def order(**values) -> Request:
    base = {"id": 1, "kind": "order", "title": "t", "capability_ref": "capability:default/ci",
            "requester_ref": "user:default/a", "stage": "delivered", "created_at": utc(2024, 1, 1),
            "updated_at": utc(2024, 1, 1)}
    return Request(**{**base, **values})


def test_months_are_calendar_months_clipped_to_the_window_across_a_year_end():
    found = periods(Window(utc(2023, 11, 15), utc(2024, 2, 10)), "month")
    assert [(p.start.date().isoformat(), p.end.date().isoformat()) for p in found] == [
        ("2023-11-15", "2023-12-01"), ("2023-12-01", "2024-01-01"), ("2024-01-01", "2024-02-01"),
        ("2024-02-01", "2024-02-10")]


def test_weeks_start_at_the_window_and_the_last_is_clipped():
    found = periods(Window(utc(2024, 1, 1), utc(2024, 1, 20)), "week")
    assert [p.end - p.start for p in found] == [timedelta(days=7), timedelta(days=7), timedelta(days=5)]


def test_periods_are_bounded_for_a_long_window():
    assert len(periods(Window(utc(2021, 1, 1), utc(2024, 1, 1)), "week")) == 157
    assert len(periods(Window(utc(2020, 1, 1), utc(2024, 1, 1)), "week")) == 160


def test_rating_split_promoters_passives_detractors():
    rated = [order(id=n, value_rating=rating, value_confirmed_at=utc(2024, 1, n + 1))
             for n, rating in enumerate([5, 5, 5, 4, 3, 1])]
    # 3 promoters, 1 passive, 2 detractors of 6: (3 - 2) / 6 = 16.7 %; mean 23 / 6.
    found = satisfaction(rated, visible_ids=set())
    assert (found["promoters"], found["passives"], found["detractors"]) == (3, 1, 2)
    assert found["npsScore"] == 16.7
    assert found["averageRating"] == 23 / 6
    assert found["comments"] == []


def test_no_ratings_no_scores():
    assert satisfaction([], set()) | {"comments": []} == {
        "ratings": 0, "averageRating": None, "promoters": 0, "passives": 0, "detractors": 0, "npsScore": None,
        "comments": []}


def test_sla_counts_orders_without_a_target_apart_and_uses_the_delivery_when_the_end_is_unset():
    window = Window(utc(2024, 1, 1), utc(2024, 2, 1))
    delivered = [
        (order(id=1, target_lead_time_seconds=3600, created_at=utc(2024, 1, 2)), utc(2024, 1, 2, 1)),  # exactly 1 h
        (order(id=2, target_lead_time_seconds=None), utc(2024, 1, 3)),
        (order(id=3, target_lead_time_seconds=60, created_at=utc(2023, 12, 1)), utc(2023, 12, 2)),  # outside
    ]
    assert sla(delivered, window) == {"orders": 1, "withinTarget": 1, "compliance": 1.0, "medianLeadTime": 3600.0,
                                      "unit": "seconds", "ordersWithoutTarget": 1}


def test_time_saved_without_a_capability_figure_credits_nothing():
    window = Window(utc(2024, 1, 1), utc(2024, 2, 1))
    found = time_saved([(order(), utc(2024, 1, 5))], [], {"capability:default/ci": None}, window)
    assert (found["credited"], found["deliveredOrders"], found["confirmed"]) == (0, 1, 0)


def test_adoption_counts_each_component_and_team_once_from_its_first_date():
    window = Window(utc(2024, 1, 1), utc(2024, 1, 15))
    adoptions = [Adoption("component:default/a", "capability:default/ci", utc(2024, 1, 3), "order"),
                 Adoption("component:default/b", "capability:default/ci", utc(2024, 1, 10), "catalog")]
    owners = {"component:default/a": {"group:default/x"}, "component:default/b": {"group:default/x"}}
    found = adoption(adoptions, [(utc(2024, 1, 9), "group:default/y")], owners, window, "week")
    assert [(p["components"], p["teams"]) for p in found["series"]] == [(1, 1), (2, 2)]
