"""Request logging and Prometheus metrics (`/metrics`), each app with its own registry."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from portal.logging_setup import get_logger

log = get_logger("portal.http")


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

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(request.scope.get("route"), "path", "unmatched")
            requests.labels(request.method, route, str(status)).inc()
            latency.labels(request.method, route).observe(elapsed)
            if route not in ("/healthz", "/metrics", "/static"):
                log.info("request", method=request.method, path=request.url.path, status=status,
                         ms=round(elapsed * 1000, 2))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus exposition of this process's counters."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
