"""Many deliveries at once through the ASGI app: one bad delivery never fails the good ones beside it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from portal.app import create_app
from portal.webhooks import inbox_writer, intake
from portal.webhooks.models import WebhookDelivery
from tests.webhooks import signed
from tests.webhooks.support import all_rows, run_async

CONCURRENT = 200
BAD = 117  # somewhere in the middle of the crowd


@pytest.fixture
def app(settings, monkeypatch):
    signed.configure_secrets(monkeypatch)
    return create_app(settings)


def pagerduty_delivery(n: int, event_id: object = None) -> tuple[bytes, dict]:
    payload = json.loads(signed.PAYLOADS["pagerduty"].read_bytes())
    if event_id is not None:
        payload["event"]["id"] = event_id
        body = json.dumps(payload).encode()
        return body, signed.pagerduty(body)  # no X-Webhook-Id: event.id names the delivery
    body = json.dumps(payload).encode()
    return body, signed.pagerduty(body, f"pd-{n}")


def post_all_at_once(app, deliveries: list[tuple[bytes, dict]]) -> list[httpx.Response]:  # noqa: ANN001
    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            responses = await asyncio.gather(*(client.post("/webhooks/pagerduty", content=body, headers=headers)
                                               for body, headers in deliveries))
        await app.state.inbox_writer.close()
        return list(responses)

    return run_async(scenario())


def record_batches(monkeypatch) -> list[tuple[int, bool]]:  # noqa: ANN001
    """(rows, failed) for every transaction the writer runs."""
    batches: list[tuple[int, bool]] = []
    real = inbox_writer.write_rows

    def recording(connection, dialect, rows):  # noqa: ANN001, ANN202
        try:
            ids = real(connection, dialect, rows)
        except Exception:
            batches.append((len(rows), True))
            raise
        batches.append((len(rows), False))
        return ids

    monkeypatch.setattr(inbox_writer, "write_rows", recording)
    return batches


def test_an_event_id_that_is_an_object_gets_its_own_400_and_the_other_199_are_stored(app, engine, monkeypatch):
    batches = record_batches(monkeypatch)
    deliveries = [pagerduty_delivery(n, {"id": "PGR0VU2"} if n == BAD else None) for n in range(CONCURRENT)]
    responses = post_all_at_once(app, deliveries)
    assert responses[BAD].status_code == 400
    assert "event.id must be a string" in responses[BAD].json()["reason"]
    others = [response for n, response in enumerate(responses) if n != BAD]
    assert [response.status_code for response in others] == [202] * (CONCURRENT - 1)
    assert {row.delivery_id for row in all_rows(engine, WebhookDelivery)} == \
        {f"pd-{n}" for n in range(CONCURRENT) if n != BAD}
    assert not any(failed for _, failed in batches)
    assert max(size for size, _ in batches) > 1  # they did arrive together


def test_a_row_the_database_refuses_fails_alone_inside_a_group_commit(app, engine, monkeypatch):
    # Past every check of the intake (as a database may refuse what no check foresaw): that delivery's
    # row carries a value no driver can bind, in the middle of 200 concurrent ones.
    batches = record_batches(monkeypatch)
    real_row = intake.delivery_row

    def poisoned(source, connection, info, request):  # noqa: ANN001, ANN202
        row = real_row(source, connection, info, request)
        if info.delivery_id == f"pd-{BAD}":
            row["delivery_id"] = {"unbindable": True}
        return row

    monkeypatch.setattr(intake, "delivery_row", poisoned)
    responses = post_all_at_once(app, [pagerduty_delivery(n) for n in range(CONCURRENT)])
    assert responses[BAD].status_code == 503
    assert "please retry" in responses[BAD].json()["reason"]
    assert responses[BAD].headers["Retry-After"] == "1"
    others = [response for n, response in enumerate(responses) if n != BAD]
    assert [response.status_code for response in others] == [202] * (CONCURRENT - 1)
    assert len(all_rows(engine, WebhookDelivery)) == CONCURRENT - 1
    assert any(failed and size > 1 for size, failed in batches)  # it failed a shared transaction
