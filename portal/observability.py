"""Request logging and Prometheus metrics (`/metrics`), each app with its own registry."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from portal.logging_setup import get_logger

log = get_logger("portal.http")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/static"})


class ObservabilityMiddleware:
    """Pure ASGI middleware (no per-request task group): counts, times and logs each request."""

    def __init__(self, app, requests: Counter, latency: Histogram) -> None:  # noqa: ANN001
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message) -> None:  # noqa: ANN001
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(elapsed)
            if route not in _QUIET_ROUTES and log.isEnabledFor(20):
                log.info("request", method=method, path=scope["path"], status=status, ms=round(elapsed * 1000, 2))


def install_observability(app: FastAPI) -> None:
    """Count and time every request by route template, log each one, and serve /metrics."""
    # A registry per app, so several apps in one process (tests) never share counters.
    registry = CollectorRegistry()
    requests = Counter(
        "flowport_http_requests_total", "HTTP requests handled", ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "flowport_http_request_seconds", "Time to produce a response", ["method", "route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )
    app.state.metrics_registry = registry
    app.add_middleware(ObservabilityMiddleware, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus exposition of this process's counters."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
