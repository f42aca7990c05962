"""What a plugin's sync hook reads and yields: its cursors, the catalog links to sync, and pages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from portal.flow.records import FlowRecord


@dataclass
class SyncPage:
    """Records read from one page of `resource`, and that resource's cursor once they are stored.
    Yield it only after every response fetched so far is reflected in `records` (or in earlier pages):
    the runner then stores the records, the cursor and those responses' validators in one commit."""

    resource: str
    records: list[FlowRecord]
    cursor: dict | None = None
    # Items of the page that could not be read (why, for people); reported on the run, never fatal.
    skipped: list[str] = field(default_factory=list)


@dataclass
class SyncState:
    """The cursors of one connection's resources (empty on --full) and the catalog's link values."""

    source: str
    connection: str
    full: bool = False
    cursors: dict[str, dict] = field(default_factory=dict)
    # annotation -> values, e.g. github.com/project-slug -> ["octo/repo"]; looked up by the runner.
    linked: Callable[[str], list[str]] = lambda annotation: []

    def cursor(self, resource: str) -> dict:
        """A copy of the resource's committed cursor ({} when it has never been synced)."""
        return copy.deepcopy(self.cursors.get(resource) or {})

    def linked_values(self, annotation: str) -> list[str]:
        """Annotation values of catalog entities, i.e. what this tool should be synced for."""
        return self.linked(annotation)
