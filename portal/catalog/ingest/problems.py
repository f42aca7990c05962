"""Result and error types of ingestion: problems, reports and location errors."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field


class LocationError(ValueError):
    """A location that cannot be registered or read: unsupported type, disallowed host, missing file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LocationExistsError(LocationError):
    """The location is registered already (HTTP 409 in the API)."""


@dataclass(frozen=True)
class Problem:
    """One thing that kept an entity or a file from loading, for people to fix."""

    file: str
    line: int | None = None
    entity: str | None = None
    field: str | None = None
    message: str = ""
    # Backstage's location key (`file:/abs/path`, `url:https://…`); kept out of str().
    location_key: str | None = dataclass_field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where]
        if self.entity:
            parts.append(self.entity)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


# The API and UI speak of the stored processing errors as "problem records".
ProblemRecord = Problem


@dataclass
class RegisterResult:
    """What registering (or dry-running) a location produced, in Backstage's response shape."""

    location: dict
    # A dry run's preview; empty after a real registration, whose entities are in the catalog.
    entities: list[dict] = dataclass_field(default_factory=list)
    exists: bool = False
    # The load that registration did (None for a dry run).
    report: RefreshReport | None = None
    # Refs of what a real registration stored, in file order; `registered_entities()` reads them back.
    entity_refs: list[str] = dataclass_field(default_factory=list)


@dataclass
class RefreshReport:
    """Counts and problems of one location refresh."""

    location_id: str
    target: str = ""
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    orphaned: int = 0
    errors: list[Problem] = dataclass_field(default_factory=list)
