"""The impact view reads every adopter's before and after windows in one batch: the same answer as reading
each window alone, in a number of statements that does not grow with the number of adopters."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event

from portal.metrics.api_dora import dora_of_components
from portal.metrics.api_value import capability_impact
from portal.metrics.dora_refresher import refresh_round
from portal.metrics.entities import adopters, component_links
from portal.metrics.window import Window
from tests.flow.factories import GITHUB, PAGERDUTY, deployment, incident, make_component, save
from tests.metrics.value_scenario import CI, day, order

LENGTH = timedelta(days=30)


def _add_adopters(session, first: int, count: int) -> None:  # noqa: ANN001
    """Components s<n> adopting CI by an order delivered on a day of April, each with deployments on both
    sides (s0, s3, ... one on each edge of the windows) and, every third one, an incident after adoption."""
    for n in range(first, first + count):
        make_component(session, f"s{n}", {GITHUB: f"acme/s{n}", PAGERDUTY: f"P{n}"})
        adopted = day(4, 1 + n, 9)
        order(session, CI, adopted - timedelta(hours=1), stage="delivered", delivered=adopted, component=f"s{n}")
        # Deployments finish 5 minutes after they start: for n % 3 == 0 at the start of the before window
        # (counts), at the adoption (counts after) and at the end of the after window (counts nowhere).
        days = [-30, -14, -7, 0, 7, 14, 30] + ([20] if n % 2 else [])
        save(session, [deployment(f"acme/s{n}", 100 * n + k, "production",
                                  adopted + timedelta(days=offset + n % 3, minutes=-5)) for k, offset in enumerate(days)]
             + ([incident(f"P{n}", n, adopted + timedelta(days=1), status="resolved",
                          resolved_at=adopted + timedelta(days=1, hours=2))] if n % 3 == 0 else []))


def _impact(session) -> dict:  # noqa: ANN001
    return capability_impact(session, CI, adopters(session, [CI]), LENGTH, "2023")


def _statements(session) -> tuple[dict, list[str]]:  # noqa: ANN001
    """The impact answer and the statements it sent, with the rollup as the refresher leaves it (every
    component built and current, so the answer writes nothing)."""
    session.commit()
    refresh_round(session.get_bind())
    sent = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        sent.append(statement[:100])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = _impact(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return answer, sent


def test_each_adopter_answers_as_its_windows_read_alone(session):
    _add_adopters(session, 0, 5)
    answer = _impact(session)
    assert len(answer["components"]) == 5
    for item in answer["components"]:  # the rollup is current: the answer brought it up to date
        links = component_links(session, [item["component"]])
        for side in ("before", "after"):
            window = Window(*(_time(item[side][key]) for key in ("from", "until")))
            assert {key: value for key, value in item[side].items() if key not in ("from", "until")} == \
                dora_of_components(session, links, window, "2023", up_to_date=True), (item["component"], side)
    assert [item["component"] for item in answer["components"]] == [f"component:default/s{n}" for n in range(5)]
    assert [item["before"]["deploymentFrequency"]["samples"] for item in answer["components"]] == [3, 3, 3, 3, 3]
    assert [item["after"]["deploymentFrequency"]["samples"] for item in answer["components"]] == [3, 4, 3, 4, 3]
    assert [item["after"]["timeToRestore"]["samples"] for item in answer["components"]] == [1, 0, 0, 1, 0]


def test_the_statements_do_not_grow_with_the_adopters(session):
    _add_adopters(session, 0, 3)
    few, sent_for_few = _statements(session)
    _add_adopters(session, 3, 9)
    many, sent_for_many = _statements(session)
    assert (len(few["components"]), len(many["components"])) == (3, 12)
    assert len(sent_for_few) == len(sent_for_many), (sent_for_few, sent_for_many)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
