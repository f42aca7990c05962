"""Rate limits: the token bucket itself, then the API and sign-in limits of a running app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.web.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_over_the_minute():
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)
    assert [limiter.retry_after("a") for _ in range(6)] == [0] * 6
    assert limiter.retry_after("a") == 10  # one token comes back every 10 seconds
    assert limiter.retry_after("b") == 0  # other clients have their own bucket
    clock.now += 10
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("a") > 0


def test_the_number_of_clients_kept_is_bounded():
    limiter = RateLimiter(1, max_clients=3, clock=Clock())
    for key in "abcd":
        limiter.retry_after(key)
    assert len(limiter._buckets) == 3
    assert limiter.retry_after("a") == 0  # the longest idle was forgotten and starts full


def test_zero_switches_a_limit_off():
    assert not RateLimiter(0).enabled


@pytest.fixture
def limited(settings):
    return settings.model_copy(update={"api_rate_limit": 3, "sign_in_rate_limit": 2, "env": "development"})


def test_the_api_answers_429_with_retry_after_once_a_client_is_over_its_limit(limited):
    with TestClient(create_app(limited)) as client:
        assert [client.get("/api/catalog/entities/by-query").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/api/catalog/entities/by-query")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["name"] == "TooManyRequestsError"
        assert "Too many API requests" in refused.json()["error"]["message"]
        v1 = client.get("/api/v1/products")
        assert v1.status_code == 429 and "Too many API requests" in v1.json()["error"]["message"]
        # Health checks, metrics, pages and static files are not API requests.
        for path in ("/healthz", "/readyz", "/metrics", "/static/flowport.css", "/catalog"):
            assert client.get(path).status_code == 200, path


def test_webhooks_do_not_count_against_the_api_limit(limited):
    with TestClient(create_app(limited)) as client:
        for _ in range(5):
            assert client.post("/webhooks/github", content=b"{}").status_code != 429


def test_sign_in_attempts_are_limited_per_address(limited, seeded):
    with TestClient(create_app(limited)) as client:
        answers = [client.post("/auth/dev/sign-in", data={"user_ref": "user:default/nobody"}).status_code
                   for _ in range(3)]
        assert answers == [400, 400, 429]
        page = client.post("/auth/dev/sign-in", data={"user_ref": "user:default/nobody"},
                           headers={"Accept": "text/html"})
        assert page.status_code == 429 and "Too many sign-in attempts" in page.text
        assert "retry-after" in page.headers


def test_a_signed_in_user_is_one_client_whatever_the_address(limited, seeded):
    with TestClient(create_app(limited)) as client:
        client.post("/auth/dev/sign-in", data={"user_ref": "user:default/alice.andersen"}, follow_redirects=False)
        assert [client.get("/api/v1/identity").status_code for _ in range(4)] == [200, 200, 200, 429]
        # Someone else (no cookie) from the same address has a bucket of their own.
        assert TestClient(client.app).get("/api/v1/identity").status_code == 200
