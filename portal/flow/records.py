"""What normalizers and pull syncs produce: records to upsert into the flow tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal.flow.models import (
    FlowChange,
    FlowCommit,
    FlowDeployment,
    FlowIncident,
    FlowIncidentEvent,
    FlowPipelineRun,
    FlowRelease,
    FlowWorkItem,
    FlowWorkItemTransition,
)

RECORD_TABLES = {
    "change": FlowChange,
    "commit": FlowCommit,
    "pipeline_run": FlowPipelineRun,
    "deployment": FlowDeployment,
    "release": FlowRelease,
    "incident": FlowIncident,
    "work_item": FlowWorkItem,
    "transition": FlowWorkItemTransition,
    "incident_event": FlowIncidentEvent,
}

# History kinds: rows are only ever added, once per these columns (their unique index).
APPEND_ONLY_KEYS = {
    "transition": ("work_item_id", "at", "to_status"),
    "incident_event": ("incident_id", "at", "event"),
}


@dataclass(frozen=True)
class FlowRecord:
    """One record of `kind` (a key of RECORD_TABLES); `values` are column values, None = unknown.
    `defaults` fill columns only when the row is new (e.g. a deployment's status before any outcome)."""

    kind: str
    values: dict
    defaults: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in RECORD_TABLES:
            raise ValueError(f"unknown flow record kind {self.kind!r}")


def parse_time(value: object) -> datetime | None:
    """ISO-8601 text (with Z or offset), epoch seconds, or GitLab's `2021-01-01 10:00:00 UTC` to aware UTC."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # beyond the years a datetime holds, NaN
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    text = re.sub(r"Z$", "+00:00", text)
    # Python < 3.11-style offsets like +0000 (Jira) need a colon.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_line(message: object) -> str | None:
    """A commit message's title: its first line, without surrounding blanks."""
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip().splitlines()[0].strip()


def pushed_branch(ref: object) -> str | None:
    """The branch of a pushed `refs/heads/...` ref; None for tags and other refs."""
    if not isinstance(ref, str) or not ref.startswith("refs/heads/"):
        return None
    return ref.removeprefix("refs/heads/") or None


_TIER_PATTERNS = (
    # Checked in order: "preprod" must be staging before "prod" can claim it.
    ("staging", re.compile(r"(pre-?prod|stag|stg|uat)", re.I)),
    ("production", re.compile(r"(^|[^a-z])(prod|prd|production|live)", re.I)),
    ("testing", re.compile(r"(test|qa|^ci$|integration)", re.I)),
    ("development", re.compile(r"(dev|local|sandbox|preview|review)", re.I)),
)


def environment_tier(environment: str | None) -> str:
    """production / staging / testing / development from an environment's name, else `other`."""
    if not environment:
        return "other"
    for tier, pattern in _TIER_PATTERNS:
        if pattern.search(environment):
            return tier
    return "other"
