"""GET /api/v1/metrics/dora: the DORA metrics of a component, system, domain, group or platform product."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Query
from sqlmodel import Session

from portal.auth.identity import require
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow.query import Link
from portal.metrics.dora import dora_metrics
from portal.metrics.dora_rollup import bring_up_to_date
from portal.metrics.dora_samples import read_summaries, read_summary
from portal.metrics.entities import resolve_scope
from portal.metrics.tiers import BENCHMARKS, DEFAULT_BENCHMARK
from portal.metrics.window import Window, window_from_query

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], dependencies=[require("metrics.dora.read")])


def benchmark_from_query(value: str | None) -> str:
    """`2023` (the default) or `2021`; anything else is a 400 naming the choices."""
    if value is None or value.strip() == "":
        return DEFAULT_BENCHMARK
    if value.strip() not in BENCHMARKS:
        raise CatalogApiError(400, f"benchmark={value[:20]!r} is not a DORA report year this portal knows; "
                                   f"use one of {', '.join(sorted(BENCHMARKS))}")
    return value.strip()


def dora_of_components(session: Session, components: dict[str, Sequence[Link]], window: Window,
                       benchmark: str, *, up_to_date: bool = False) -> dict:
    """The five metric objects over the components' records in the window, read from the rollup after
    bringing it up to date for these components (portal/metrics/dora_rollup.py) unless the caller
    just did (`up_to_date`, for many reads over the same components)."""
    if not up_to_date:
        bring_up_to_date(session, components)
    return dora_metrics(read_summary(session, components, window), window, benchmark)


def dora_of_each(session: Session, wanted: Sequence[tuple[str, Window]], benchmark: str) -> list[dict]:
    """dora_of_components of each (component, window) alone, in order, read in one batch (a few statements
    however many there are); the caller brings the rollup up to date for the components first."""
    return [dora_metrics(summary, window, benchmark)
            for summary, (_, window) in zip(read_summaries(session, wanted), wanted, strict=True)]


@router.get("/dora")
def dora(
    session: SessionDep,
    entity: str = Query(..., max_length=400, description="Entity ref: component, system, domain, group or "
                                                          "platformproduct, e.g. component:default/billing-service"),
    from_: str | None = Query(None, alias="from", max_length=64,
                              description="Window start (ISO-8601, inclusive); default 30 days before until"),
    until: str | None = Query(None, max_length=64, description="Window end (ISO-8601, exclusive); default now"),
    benchmark: str | None = Query(None, max_length=20, description="DORA report whose tier table applies: "
                                                                    "2023 (default) or 2021"),
) -> dict:
    """Deployment frequency, lead time for changes, change failure rate, failed deployment recovery time
    and time to restore over [from, until), each `{value, unit, samples, tier}`; see docs/metrics.md."""
    window = window_from_query(from_, until)
    chosen = benchmark_from_query(benchmark)
    scope = resolve_scope(session, entity)
    return {"entity": scope.ref, **window.iso(), "benchmark": chosen,
            **dora_of_components(session, scope.components, window, chosen)}
