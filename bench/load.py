"""Latency of the catalog's HTTP endpoints under sequential load from one client."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

WARM_UP_REQUESTS = 20
SCENARIO_BUDGET_SECONDS = 90.0
MAX_TRANSPORT_ERRORS = 3


@dataclass
class Scenario:
    """One endpoint to time: how to build the n-th request path, and its p95 target (None = no target)."""

    name: str
    path_for: Callable[[int], str]
    target_p95_ms: float | None
    expect_json: bool = True


@dataclass
class LatencyResult:
    name: str
    example_path: str
    requests: int
    failures: int
    target_p95_ms: float | None
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    first_failure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        if self.target_p95_ms is None:
            return None
        return self.failures == 0 and self.p95_ms <= self.target_p95_ms


def percentile(sorted_ms: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return 0.0
    rank = max(1, min(len(sorted_ms), math.ceil(fraction * len(sorted_ms))))
    return sorted_ms[rank - 1]


def by_query_path(params: list[tuple[str, str]]) -> str:
    return "/api/catalog/entities/by-query?" + urlencode(params)


def build_scenarios(client: httpx.Client, component_names: list[str], seed: int = 7) -> list[Scenario]:
    """The measured endpoints; page 2 needs a cursor, fetched once from page 1 here."""
    rng = random.Random(seed)
    # Random names so by-name reads different rows, not one cached page.
    names = rng.sample(component_names, min(len(component_names), 2000))
    first_page = by_query_path([("filter", "kind=component,spec.type=service"), ("limit", "20")])
    ordered = by_query_path([("filter", "kind=component,spec.type=service"),
                             ("orderField", "metadata.name,asc"), ("limit", "20")])
    page_two = _page_two_path(client, ordered)
    by_name = "/api/catalog/entities/by-name/component/default/"
    return [
        Scenario("GET /healthz (floor)", lambda i: "/healthz", None),
        Scenario("by-query filter, limit 20", lambda i: first_page, 20.0),
        Scenario("by-query ordered, cursor page 2", lambda i: page_two, 20.0),
        Scenario("by-name component", lambda i: by_name + names[i % len(names)], 2.0),
        Scenario("entity-facets kind, spec.type, tags",
                 lambda i: "/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=metadata.tags", 50.0),
        Scenario("HTML /catalog?kind=component", lambda i: "/catalog?kind=component", 100.0, expect_json=False),
    ]


# Timed again against a server that keeps no totals or facets between requests: every request then
# costs what the first one after a catalog write (or the first of a new filter) costs.
UNCACHED = ("by-query filter, limit 20", "entity-facets kind, spec.type, tags", "HTML /catalog?kind=component")


def uncached_scenarios(scenarios: list[Scenario]) -> list[Scenario]:
    return [Scenario(f"{scenario.name}, uncached", scenario.path_for, scenario.target_p95_ms, scenario.expect_json)
            for scenario in scenarios if scenario.name in UNCACHED]


def _page_two_path(client: httpx.Client, first_page: str) -> str:
    """The path of the second page, from page 1's nextCursor; an invalid cursor if there is none, so it shows as failures."""
    try:
        response = client.get(first_page, timeout=60.0)
        cursor = response.json().get("pageInfo", {}).get("nextCursor") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        cursor = None
    if not cursor:
        return first_page + "&cursor=missing-next-cursor"
    return by_query_path([("cursor", cursor), ("limit", "20")])


def _failure(response: httpx.Response, expect_json: bool) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if expect_json:
        try:
            response.json()
        except ValueError:
            return "the response is not JSON"
    return None


def run_scenario(client: httpx.Client, scenario: Scenario, requests: int,
                 on_request: Callable[[], None] | None = None,
                 budget_seconds: float = SCENARIO_BUDGET_SECONDS) -> LatencyResult:
    """Warm up, then time `requests` sequential requests (wall clock around each full response).

    A scenario stops early when it exceeds its time budget or the server stops answering, so one
    pathological endpoint cannot hold up the rest; the result says so in its notes.
    """
    result = LatencyResult(scenario.name, scenario.path_for(0), 0, 0, scenario.target_p95_ms)
    for index in range(WARM_UP_REQUESTS):
        if _timed_get(client, scenario, index, result) is None and result.failures >= MAX_TRANSPORT_ERRORS:
            result.notes.append("the server did not answer the warm-up requests")
            return result
    result.failures, result.first_failure = 0, None
    timings: list[float] = []
    started_scenario = time.monotonic()
    transport_errors = 0
    for index in range(requests):
        elapsed_ms = _timed_get(client, scenario, index, result)
        result.requests += 1
        if elapsed_ms is None:
            transport_errors += 1
            if transport_errors >= MAX_TRANSPORT_ERRORS:
                result.notes.append(f"stopped after {result.requests} requests: {transport_errors} requests "
                                    "got no answer in time")
                break
        else:
            timings.append(elapsed_ms)
        if on_request:
            on_request()
        if time.monotonic() - started_scenario > budget_seconds and index + 1 < requests:
            result.notes.append(f"stopped after {result.requests} of {requests} requests: "
                                f"over the {budget_seconds:.0f} s budget of one scenario")
            break
    timings.sort()
    result.p50_ms, result.p95_ms, result.p99_ms = (round(percentile(timings, f), 2) for f in (0.50, 0.95, 0.99))
    result.max_ms = round(timings[-1], 2) if timings else 0.0
    return result


def _timed_get(client: httpx.Client, scenario: Scenario, index: int, result: LatencyResult) -> float | None:
    """Milliseconds for one full response, or None when none came; failures are counted on `result`."""
    path = scenario.path_for(index)
    started = time.perf_counter()
    try:
        response = client.get(path)
        response.read()
    except httpx.TransportError as error:
        result.failures += 1
        result.first_failure = result.first_failure or f"{path}: {error.__class__.__name__} {error}"
        return None
    elapsed_ms = (time.perf_counter() - started) * 1000
    problem = _failure(response, scenario.expect_json)
    if problem:
        result.failures += 1
        result.first_failure = result.first_failure or f"{path}: {problem}"
    return elapsed_ms


def concurrent_load(base_url: str, paths: list[str], clients: int = 8, seconds: float = 30.0,
                    seed: int = 11) -> dict:
    """`clients` threads sending requests for `seconds`, to see memory with several requests in flight."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    failures = [0] * clients

    def client_loop(index: int) -> None:
        rng = random.Random(seed + index)
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            while time.monotonic() < stop:
                try:
                    ok = client.get(rng.choice(paths)).status_code == 200
                except httpx.TransportError:
                    ok = False
                counts[index] += 1
                failures[index] += 0 if ok else 1

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"clients": clients, "seconds": seconds, "requests": sum(counts), "failures": sum(failures)}
