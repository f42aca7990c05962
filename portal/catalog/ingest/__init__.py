"""Catalog ingestion: locations (files, URLs), refresh, orphans, conflicts and processing errors."""

from portal.catalog.ingest.defaults import ensure_default_locations, validate_paths
from portal.catalog.ingest.folders import descriptor_files
from portal.catalog.ingest.locations import (
    delete_location,
    get_location,
    list_locations,
    location_of_entity,
    refresh_all,
    refresh_entity,
    refresh_location,
    register_location,
    registered_entities,
)
from portal.catalog.ingest.problems import (
    LocationError,
    LocationExistsError,
    Problem,
    ProblemRecord,
    RefreshReport,
    RegisterResult,
)
from portal.catalog.ingest.refresher import CatalogRefresher, refresh_each_location

__all__ = [
    "CatalogRefresher", "LocationError", "LocationExistsError", "Problem", "ProblemRecord",
    "RefreshReport", "RegisterResult", "delete_location", "descriptor_files", "ensure_default_locations",
    "get_location", "list_locations", "location_of_entity", "refresh_all", "refresh_each_location",
    "refresh_entity", "refresh_location", "register_location", "registered_entities", "validate_paths",
]
