"""The catalog-as-code folders loaded on start, and `flowport catalog validate` over files and folders.

Each configured path is registered as one `file` location, folder or file; what a folder stands for
is described in portal/catalog/ingest/folders.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.ingest.locations import refresh_location, register_location
from portal.catalog.ingest.problems import LocationError, Problem, RefreshReport
from portal.catalog.ingest.reader import TreeReader
from portal.catalog.ingest.sources import SourceReader, location_key
from portal.catalog.models import CatalogLocation
from portal.settings import Settings

log = logging.getLogger(__name__)

def ensure_default_locations(session: Session, settings: Settings, http: httpx.Client | None) -> list[RefreshReport]:
    """Register each configured catalog and template path once (idempotent), then refresh it."""
    reports = []
    for configured in [*settings.catalog_paths, *settings.template_paths]:
        target = str(Path(configured).expanduser().resolve())
        existing = session.execute(
            select(CatalogLocation).where(CatalogLocation.target == target)
        ).scalar_one_or_none()
        if existing is not None:
            reports.append(refresh_location(session, settings, http, existing.id))
            continue
        try:
            registered = register_location(session, settings, http, "file", target)
        except LocationError as error:
            log.warning("catalog path %s was not loaded: %s", configured, error.message)
            continue
        if registered.report is not None:
            reports.append(registered.report)
    return reports


def validate_paths(paths: list[str], http: httpx.Client | None = None,
                   allow_hosts: list[str] | None = None) -> list[Problem]:
    """Every problem in the given files and folders and the Location targets they name.

    Checks YAML syntax, placeholders and each entity's own rules; not whether referenced entities
    exist (Backstage does not either). URLs are followed only when an HTTP client is given.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    reader = SourceReader(http, list(allow_hosts if allow_hosts is not None else ["*"]), offline=http is None)
    for path in paths:
        resolved = Path(path).expanduser().resolve()
        if not resolved.exists():
            problems.append(Problem(str(path), message="no such file or folder"))
            continue
        key = location_key("file", str(resolved))
        if key in seen:
            continue
        tree = TreeReader(reader).read(key)
        seen |= tree.visited
        problems += tree.problems
    return problems
