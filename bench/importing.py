"""Import throughput: register the generated catalog as one location, then refresh it unchanged."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlmodel import Session

import portal.models_registry  # noqa: F401 - every table mapped before the first query
from portal.catalog.models import CatalogEntity, CatalogProcessingError, CatalogRelation, CatalogSearch
from portal.db import build_engine
from portal.settings import Settings


@dataclass
class ImportResult:
    """One timed import or refresh: how long, how many entities and rows, and what went wrong."""

    seconds: float
    entities: int
    stored_entities: int
    search_rows: int
    relation_rows: int
    processing_errors: int
    report: dict = field(default_factory=dict)
    sample_errors: list[str] = field(default_factory=list)

    @property
    def entities_per_second(self) -> float:
        return self.entities / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "entities_per_second": round(self.entities_per_second, 1)}


def bench_settings(url: str, data_dir: Path) -> Settings:
    """Production settings with nothing loaded on start: the benchmark decides what is imported."""
    return Settings(env="production", database_url=url, data_dir=data_dir, catalog_paths=[],
                    template_paths=[], run_worker=False, url_allow_hosts=[], log_level="WARNING")


def _counts(session: Session) -> tuple[int, int, int, int, list[str]]:
    def count(model) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    errors = session.execute(select(CatalogProcessingError).limit(5)).scalars().all()
    samples = [f"{e.location_key}:{e.line}: {e.entity_ref}: {e.field}: {e.message}" for e in errors]
    return count(CatalogEntity), count(CatalogSearch), count(CatalogRelation), count(CatalogProcessingError), samples


def _report_dict(report: object) -> dict:
    """The ingestion report's counters, whatever dataclass shape it has."""
    if report is None:
        return {}
    values = asdict(report) if hasattr(report, "__dataclass_fields__") else dict(vars(report))
    if isinstance(values.get("errors"), list):
        values["errors"] = len(values["errors"])
    return {k: v for k, v in values.items() if isinstance(v, (int, float, str, type(None)))}


def _timed(settings: Settings, generated_total: int, work: Callable[[Session, httpx.Client], object]):
    engine = build_engine(settings.resolved_database_url)
    try:
        with httpx.Client() as http, Session(engine, expire_on_commit=False) as session:
            started = time.perf_counter()
            outcome = work(session, http)
            session.commit()
            seconds = time.perf_counter() - started
            stored, search, relations, errors, samples = _counts(session)
    finally:
        engine.dispose()
    return outcome, ImportResult(seconds, generated_total, stored, search, relations, errors, {}, samples)


def import_catalog(settings: Settings, root: Path, generated_total: int,
                   on_progress: Callable[[int], None] | None = None) -> tuple[str, ImportResult]:
    """Register `root` as a file location (reading everything it lists) and commit; returns the location id."""
    from portal.catalog.ingest import refresh_location, register_location

    def work(session: Session, http: httpx.Client):
        registered = register_location(session, settings, http, "file", str(root), on_progress=on_progress)
        location_id = registered.location["id"]
        stored = session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()
        # Backstage processes a new location as part of registering it; if ingestion defers
        # that to a refresh, the refresh is part of the import and is timed with it.
        report = None if stored >= generated_total else refresh_location(session, settings, http, location_id)
        return location_id, report

    (location_id, report), result = _timed(settings, generated_total, work)
    result.report = _report_dict(report)
    return location_id, result


def store_directly(settings: Settings, files: list[Path], generated_total: int) -> ImportResult:
    """Fallback while ingestion is missing: parse the files and call store.write_entities (no location)."""
    import yaml

    from portal.catalog.store import PreparedEntity, write_entities

    def work(session: Session, http: httpx.Client):
        for path in files:
            key = f"file:{path}"
            documents = yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader)
            write_entities(session, [PreparedEntity(doc, key, key) for doc in documents if doc])

    return _timed(settings, generated_total, work)[1]


def refresh_unchanged(settings: Settings, location_id: str, generated_total: int,
                      on_progress: Callable[[int], None] | None = None) -> ImportResult:
    """Refresh the same, unchanged location: every file read and compared, nothing written."""
    from portal.catalog.ingest import refresh_location

    report, result = _timed(
        settings, generated_total,
        lambda session, http: refresh_location(session, settings, http, location_id, on_progress=on_progress),
    )
    result.report = _report_dict(report)
    return result
