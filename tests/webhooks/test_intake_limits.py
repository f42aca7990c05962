"""What the intake lets one process hold and take: the body budget and the per-connection rate limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.webhooks.limits import BodyBudget, RateLimiter, intake_limits
from portal.webhooks.models import WebhookDelivery
from tests.webhooks import signed
from tests.webhooks.support import all_rows

PR_OPENED = signed.PAYLOADS["github"].read_bytes()


def client_with(settings, monkeypatch, **limits) -> TestClient:  # noqa: ANN001
    signed.configure_secrets(monkeypatch)
    for name, value in limits.items():
        setattr(settings, name, value)
    return TestClient(create_app(settings))


def post_github(client: TestClient, delivery: str, body: bytes = PR_OPENED, path: str = "/webhooks/github"):  # noqa: ANN201
    return client.post(path, content=body, headers=signed.github(body, delivery))


def test_a_connection_over_its_rate_gets_429_with_retry_after_and_nothing_is_stored(settings, monkeypatch, engine):
    # A bucket of 2 that refills once in 1,000 s: the third delivery is over, whatever the machine's speed.
    with client_with(settings, monkeypatch, webhook_rate_per_second=0.001, webhook_rate_burst=2) as client:
        assert [post_github(client, f"d-{n}").status_code for n in range(2)] == [202, 202]
        refused = post_github(client, "d-2")
        assert refused.status_code == 429
        assert refused.json() == {"status": "rejected", "reason": "more than 0.001 deliveries a second for this "
                                                                   "github connection; please retry"}
        assert int(refused.headers["Retry-After"]) >= 1
        # Other connections have buckets of their own.
        body = signed.PAYLOADS["jira"].read_bytes()
        assert client.post("/webhooks/jira", content=body, headers=signed.jira(body)).status_code == 202
    assert sorted(row.delivery_id for row in all_rows(engine, WebhookDelivery) if row.source == "github") == \
        ["d-0", "d-1"]


def test_a_rate_of_zero_turns_the_limit_off(settings, monkeypatch, engine):
    with client_with(settings, monkeypatch, webhook_rate_per_second=0, webhook_rate_burst=1) as client:
        assert {post_github(client, f"d-{n}").status_code for n in range(5)} == {202}


def test_the_bucket_refills_at_the_rate_and_saves_up_at_most_the_burst():
    now = [100.0]
    limiter = RateLimiter(rate=10, burst=3, clock=lambda: now[0])
    key = ("github", "default")
    assert [limiter.seconds_to_wait(key) for _ in range(4)] == [0, 0, 0, 1]
    now[0] += 0.125  # one token back (and a quarter)
    assert [limiter.seconds_to_wait(key) for _ in range(2)] == [0, 1]
    now[0] += 3600  # an idle hour saves up the burst, not 36,000
    assert [limiter.seconds_to_wait(key) for _ in range(4)] == [0, 0, 0, 1]
    slow = RateLimiter(rate=0.01, burst=1, clock=lambda: now[0])
    assert (slow.seconds_to_wait(key), slow.seconds_to_wait(key)) == (0, 100)


def test_a_delivery_over_the_body_budget_gets_503_with_retry_after_and_is_not_stored(settings, monkeypatch, engine):
    with client_with(settings, monkeypatch, webhook_max_bytes=64 * 1024,
                     webhook_body_budget_bytes=64 * 1024) as client:
        budget = intake_limits(client.app).budget
        assert budget.take(60 * 1024)  # as if other deliveries' bodies were being read right now
        refused = post_github(client, "d-busy")
        assert refused.status_code == 503
        assert refused.json()["reason"] == "the portal is receiving too many webhook bodies at once; please retry"
        assert refused.headers["Retry-After"] == "1"
        budget.give_back(60 * 1024)
        assert post_github(client, "d-later").status_code == 202
        assert budget.in_flight == 0
    assert [row.delivery_id for row in all_rows(engine, WebhookDelivery)] == ["d-later"]


def test_a_chunked_body_without_a_length_is_refused_once_it_outgrows_the_budget(settings, monkeypatch, engine):
    with client_with(settings, monkeypatch, webhook_max_bytes=64 * 1024,
                     webhook_body_budget_bytes=64 * 1024) as client:
        budget = intake_limits(client.app).budget
        assert budget.take(40 * 1024)

        def chunks():  # noqa: ANN202 - no Content-Length: the intake learns the size as it reads
            for start in range(0, len(PR_OPENED), 4096):
                yield PR_OPENED[start:start + 4096]

        response = client.post("/webhooks/github", content=chunks(), headers=signed.github(PR_OPENED, "d-chunked"))
        assert response.status_code == 503
        assert budget.in_flight == 40 * 1024  # what the refused read held is given back
        budget.give_back(40 * 1024)
    assert all_rows(engine, WebhookDelivery) == []


@pytest.mark.parametrize("mutate, status", [
    (lambda headers: headers, 202),
    (lambda headers: headers.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}), 401),
    (lambda headers: headers.pop("X-GitHub-Delivery"), 400),
])
def test_every_answer_gives_its_body_back_to_the_budget(settings, monkeypatch, engine, mutate, status):
    with client_with(settings, monkeypatch) as client:
        headers = signed.github(PR_OPENED, "d-1")
        mutate(headers)
        assert client.post("/webhooks/github", content=PR_OPENED, headers=headers).status_code == status
        oversize = b'{"padding": "' + b"x" * (settings.webhook_max_bytes + 1) + b'"}'
        assert client.post("/webhooks/github", content=oversize, headers=signed.github(oversize)).status_code == 413
        assert intake_limits(client.app).budget.in_flight == 0


def test_the_budget_always_has_room_for_one_delivery_of_the_largest_size(settings, monkeypatch):
    with client_with(settings, monkeypatch, webhook_max_bytes=1_000_000, webhook_body_budget_bytes=10) as client:
        assert intake_limits(client.app).budget.limit == 1_000_000
    budget = BodyBudget(100)
    assert budget.take(60) and not budget.take(41) and budget.take(40)
    assert budget.in_flight == 100
