"""The worker: a delivery whose normalizer crashes, or whose records the database refuses, fails alone
with a readable error; the deliveries processed beside it are not held back."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import flowport_github
from portal.app import create_app
from portal.flow.models import FlowChange
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.webhooks import signed
from tests.webhooks.support import all_rows

PR_OPENED = json.loads(signed.PAYLOADS["github"].read_bytes())


@pytest.fixture
def app(settings, monkeypatch):
    signed.configure_secrets(monkeypatch)
    return create_app(settings)


def deliver_prs(app, numbers: list[int], title_of=lambda n: f"PR {n}") -> None:  # noqa: ANN001
    with TestClient(app) as client:
        for number in numbers:
            payload = {**PR_OPENED, "number": number,
                       "pull_request": {**PR_OPENED["pull_request"], "number": number, "id": 1000 + number,
                                        "title": title_of(number)}}
            body = json.dumps(payload).encode()
            response = client.post("/webhooks/github", content=body, headers=signed.github(body, f"pr-{number}"))
            assert response.status_code == 202, response.text


def statuses(engine) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    return {row.delivery_id: (row.status, row.last_error) for row in all_rows(engine, WebhookDelivery)}


def test_records_the_database_refuses_fail_their_delivery_alone(app, engine, monkeypatch):
    real = flowport_github.normalize_event

    def one_unwritable(event_name, payload, connection):  # noqa: ANN001, ANN202
        records = real(event_name, payload, connection)
        if payload["number"] == 3:
            for record in records:
                record.values["title"] = {"a dict": "no driver binds"}
        return records

    monkeypatch.setattr(flowport_github, "normalize_event", one_unwritable)
    deliver_prs(app, [1, 2, 3, 4, 5])
    report = processing.process_all(engine, app.state.plugins)
    assert (report.processed, report.failed) == (4, 1)
    found = statuses(engine)
    assert [found[f"pr-{n}"][0] for n in (1, 2, 4, 5)] == ["processed"] * 4
    status, error = found["pr-3"]
    assert status == "failed" and error
    assert len(all_rows(engine, FlowChange)) == 4


def test_a_delivery_refused_at_every_attempt_is_parked_not_retried_forever(app, engine, monkeypatch):
    real = flowport_github.normalize_event

    def unwritable(event_name, payload, connection):  # noqa: ANN001, ANN202
        records = real(event_name, payload, connection)
        for record in records:
            record.values["title"] = {"not": "text"}
        return records

    monkeypatch.setattr(flowport_github, "normalize_event", unwritable)
    monkeypatch.setattr(processing, "backoff_delay", lambda attempts: processing.timedelta(0))
    deliver_prs(app, [7, 8])
    for _ in range(processing.MAX_ATTEMPTS):
        processing.process_all(engine, app.state.plugins)
    assert {status for status, _ in statuses(engine).values()} == {"parked"}


def test_a_nul_in_a_title_is_stored_or_fails_alone_with_a_readable_error(app, engine):
    # PostgreSQL keeps no NUL in text; SQLite does. Either way the other deliveries are processed.
    deliver_prs(app, [1, 2, 3], title_of=lambda n: "nul\u0000inside" if n == 2 else f"PR {n}")
    processing.process_all(engine, app.state.plugins)
    found = statuses(engine)
    assert (found["pr-1"][0], found["pr-3"][0]) == ("processed", "processed")
    status, error = found["pr-2"]
    assert status == "processed" or (status == "failed" and "\x00" not in error)


def test_a_normalizer_that_crashes_marks_its_delivery_failed_and_the_worker_goes_on(app, engine, monkeypatch):
    real = flowport_github.normalize_event

    def crashing_on_two(event_name, payload, connection):  # noqa: ANN001, ANN202
        if payload["number"] == 2:
            raise KeyError("head")
        return real(event_name, payload, connection)

    monkeypatch.setattr(flowport_github, "normalize_event", crashing_on_two)
    deliver_prs(app, [1, 2, 3])
    report = processing.process_all(engine, app.state.plugins)
    assert (report.processed, report.failed) == (2, 1)
    assert statuses(engine)["pr-2"] == ("failed", "KeyError: 'head'")
