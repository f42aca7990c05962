"""SyncClient: rate limits from headers, Retry-After, retries on 5xx and timeouts, budget, validators."""

from __future__ import annotations

import asyncio
import random
from email.utils import format_datetime
from datetime import UTC, datetime

import httpx
import pytest

from portal.sync.client import (
    BudgetExhausted,
    RateLimitTooLong,
    SyncClient,
    SyncHttpError,
    retry_after_seconds,
)
from tests.sync.fake_github import FakeClock

URL = "https://api.github.com/repos/octo/repo/pulls"


def scripted(*answers):
    """A transport answering each request with the next scripted response (or raising it)."""
    queue = list(answers)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def run(transport, clock: FakeClock, calls, **options):
    async def main():
        async with httpx.AsyncClient(transport=transport) as http:
            client = SyncClient(http, sleep=clock.sleep, clock=clock, rng=random.Random(7), **options)
            results = [await call(client) for call in calls]
            return client, results

    return asyncio.run(main())


def get(url=URL, **kwargs):
    return lambda client: client.get(url, **kwargs)


def test_exhausted_rate_limit_waits_until_reset_before_the_next_request():
    clock = FakeClock()
    reset = int(clock.now) + 30
    transport, seen = scripted(
        httpx.Response(200, json=[], headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}),
        httpx.Response(200, json=[], headers={"x-ratelimit-remaining": "4999"}),
    )
    client, _ = run(transport, clock, [get(), get(URL + "?page=2")])
    assert len(seen) == 2
    # One second past the reset GitHub announced, and no other waiting.
    assert clock.sleeps == [pytest.approx(31.0)]
    assert client.stats.waited_seconds == pytest.approx(31.0)


def test_secondary_rate_limit_403_with_retry_after_is_waited_out_and_retried():
    clock = FakeClock()
    transport, seen = scripted(
        httpx.Response(403, json={"message": "You have exceeded a secondary rate limit"},
                       headers={"retry-after": "45"}),
        httpx.Response(200, json=[{"number": 1}]),
    )
    client, [response] = run(transport, clock, [get()])
    assert response.json() == [{"number": 1}]
    assert len(seen) == 2 and clock.sleeps == [45.0]
    assert client.stats.retries == 1


def test_429_with_an_http_date_retry_after():
    clock = FakeClock()
    later = format_datetime(datetime.fromtimestamp(clock.now + 120, UTC), usegmt=True)
    transport, seen = scripted(httpx.Response(429, headers={"retry-after": later}), httpx.Response(200, json=[]))
    run(transport, clock, [get()])
    assert len(seen) == 2 and clock.sleeps == [pytest.approx(120.0)]


def test_403_without_rate_limit_signals_is_a_permission_error_not_retried():
    transport, seen = scripted(httpx.Response(403, json={"message": "Resource not accessible by integration"}))
    with pytest.raises(SyncHttpError, match="403 from .*Resource not accessible by integration"):
        run(transport, FakeClock(), [get()])
    assert len(seen) == 1


def test_502_then_200_is_retried_after_a_jittered_backoff():
    clock = FakeClock()
    transport, seen = scripted(httpx.Response(502), httpx.Response(200, json=[{"number": 2}]))
    client, [response] = run(transport, clock, [get()])
    assert response.json() == [{"number": 2}] and len(seen) == 2
    assert len(clock.sleeps) == 1 and 0.5 <= clock.sleeps[0] <= 1.0


def test_timeout_then_200_is_retried():
    clock = FakeClock()
    transport, seen = scripted(httpx.ReadTimeout("read timed out"), httpx.Response(200, json=[]))
    client, _ = run(transport, clock, [get()])
    assert len(seen) == 2 and client.stats.retries == 1


def test_retries_are_bounded_and_backoff_grows():
    clock = FakeClock()
    transport, seen = scripted(*[httpx.Response(503) for _ in range(3)])
    with pytest.raises(SyncHttpError, match="gave up after 3 attempts"):
        run(transport, clock, [get()], max_attempts=3)
    assert len(seen) == 3
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 2.0


def test_budget_stops_before_sending_and_a_304_is_free():
    transport, seen = scripted(
        httpx.Response(200, json=[], headers={"etag": '"a"'}),
        httpx.Response(304, headers={"etag": '"a"'}),
        httpx.Response(200, json=[]),
    )

    async def third(client):
        with pytest.raises(BudgetExhausted):
            await client.get(URL + "?page=3")
        return None

    client, _ = run(transport, FakeClock(), [get(), get(), get(URL + "?page=2"), third], budget=2)
    # The 304 did not use up the budget: three requests went out with a budget of two.
    assert len(seen) == 3
    assert seen[1].headers["if-none-match"] == '"a"'
    assert client.stats.requests == 3 and client.stats.not_modified == 1


def test_validators_are_sent_only_for_conditional_requests():
    transport, seen = scripted(httpx.Response(304), httpx.Response(200, json=[]))
    validators = {URL: ['"v1"', "Wed, 21 Oct 2015 07:28:00 GMT", 0]}
    run(transport, FakeClock(), [get(), get(conditional=False)], validators=validators)
    assert seen[0].headers["if-none-match"] == '"v1"'
    assert seen[0].headers["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert "if-none-match" not in seen[1].headers


def test_a_rate_limit_reset_too_far_away_stops_the_run():
    clock = FakeClock()
    transport, seen = scripted(
        httpx.Response(200, json=[], headers={"x-ratelimit-remaining": "0",
                                              "x-ratelimit-reset": str(int(clock.now) + 3600)}),
    )
    with pytest.raises(RateLimitTooLong):
        run(transport, clock, [get(), get(URL + "?page=2")], max_rate_wait=600)
    assert len(seen) == 1 and clock.sleeps == []


def test_gitlab_ratelimit_headers_are_honoured():
    clock = FakeClock()
    transport, seen = scripted(
        httpx.Response(200, json=[], headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(clock.now) + 10)}),
        httpx.Response(200, json=[]),
    )
    run(transport, clock, [get(), get(URL + "?page=2")])
    assert clock.sleeps == [pytest.approx(11.0)]


def test_retry_after_parsing():
    assert retry_after_seconds("12", 0) == 12.0
    assert retry_after_seconds("nonsense", 0) is None
    assert retry_after_seconds(None, 0) is None
