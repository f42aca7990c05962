"""Jira `jira:issue_*` webhook payloads (and REST issues with `expand=changelog`) to flow records.

Records link through `jira/project-key` = the issue's project key, lower-cased. A work item's id is
`jira:<site host>:<issue id>`: the numeric id survives moving the issue to another project (its key does
not), and the host keeps two Jira sites apart. Each changelog item on the `status` field becomes a
transition (fromString -> toString) at the time of the event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlparse

from portal.flow.payload_shape import readable_errors
from portal.flow.records import FlowRecord, parse_time

LINK_ANNOTATION = "jira/project-key"

# Jira's three fixed status categories.
_STATUS_CATEGORIES = {"new": "todo", "indeterminate": "in_progress", "done": "done"}


def _site(issue: dict) -> tuple[str | None, str | None]:
    """The site's host and base URL, from the issue's REST `self` link."""
    self_url = issue.get("self") or ""
    base = self_url.split("/rest/api/", 1)[0] if "/rest/api/" in self_url else None
    return urlparse(self_url).hostname, base


def work_item_id(issue: dict, connection: str = "default") -> str:
    """The stable id of an issue's work item."""
    host, _ = _site(issue)
    return f"jira:{host or connection}:{issue.get('id') or issue['key']}"


def event_time(payload: dict, issue: dict) -> datetime | None:
    """When the event happened: `timestamp` is epoch milliseconds in Jira's webhooks. Some senders write a
    zone-less local time there instead ("2017-12-25 16:33:21,396"): it takes the zone of the changelog
    entry's own `created`, else of the issue's `updated` or `created` (never silently UTC); without any
    zone to take, the issue's `updated` is the event's time."""
    stamp = payload.get("timestamp")
    if isinstance(stamp, str) and stamp.isdigit():
        stamp = int(stamp)
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(stamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    changelog = payload.get("changelog") if isinstance(payload.get("changelog"), dict) else {}
    if isinstance(stamp, str) and _has_zone(stamp):
        return parse_time(stamp)
    local = _local_time(stamp)
    zone = next((zone for zone in map(_zone_of, (changelog.get("created"), fields.get("updated"),
                                                 fields.get("created"))) if zone is not None), None)
    if local is not None and zone is not None:
        return local.replace(tzinfo=zone)
    return parse_time(fields.get("updated"))


_ZONE_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
# Zone-less forms seen in Jira payloads: ISO with a comma or dot before the milliseconds, unpadded
# months and days ("2019-1-30 15:51:34,870"), and a US-locale form ("6/13/2019, 12:51:58 PM,687").
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S,%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                  "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y, %I:%M:%S %p,%f", "%m/%d/%Y, %I:%M:%S %p")


def _has_zone(text: str) -> bool:
    return bool(_ZONE_SUFFIX.search(text.strip()))


def _local_time(stamp: object) -> datetime | None:
    """A zone-less time as a naive datetime (None when it is not one of the known forms)."""
    if not isinstance(stamp, str) or _has_zone(stamp):
        return None
    for pattern in _LOCAL_FORMATS:
        try:
            return datetime.strptime(stamp.strip(), pattern)
        except ValueError:
            continue
    return None


def _zone_of(value: object) -> tzinfo | None:
    """The UTC offset written in a Jira time such as 2019-01-30T15:51:33.199+0300; None without one."""
    if not isinstance(value, str) or not _has_zone(value):
        return None
    parsed = parse_time(value)
    return parsed.tzinfo if parsed is not None else None


def _person(user: object) -> str | None:
    if not isinstance(user, dict):
        return None
    # Jira Cloud no longer sends `name`; the display name is what people recognise.
    return user.get("name") or user.get("displayName") or user.get("accountId")


def _project_key(issue: dict, fields: dict) -> str | None:
    project = fields.get("project") or {}
    if project.get("key"):
        return project["key"]
    key = issue.get("key") or ""
    return key.rsplit("-", 1)[0] if "-" in key else None


def work_item_record(issue: dict, connection: str = "default", deleted: bool = False,
                     updated: datetime | None = None) -> FlowRecord:
    """The issue's current state as a work item."""
    fields = issue.get("fields") or {}
    status = fields.get("status") or {}
    project_key = _project_key(issue, fields)
    _, base_url = _site(issue)
    key = issue.get("key")
    category = _STATUS_CATEGORIES.get((status.get("statusCategory") or {}).get("key") or "")
    return FlowRecord("work_item", {
        "id": work_item_id(issue, connection), "source": "jira", "connection": connection,
        "link_annotation": LINK_ANNOTATION if project_key else None,
        "link_value": project_key.lower() if project_key else None,
        "url": f"{base_url}/browse/{key}" if base_url and key else None,
        "source_updated_at": updated or parse_time(fields.get("updated")),
        "key": key or str(issue.get("id")), "title": fields.get("summary"),
        "item_type": (fields.get("issuetype") or {}).get("name"), "status": status.get("name"),
        "status_category": category,
        "created_at": parse_time(fields.get("created")),
        # A status out of the done category ("Paused", a reopen) may keep a stale resolutiondate: not resolved.
        "resolved_at": parse_time(fields.get("resolutiondate")) if category == "done" else None,
        "deleted": deleted,
        "author": _person(fields.get("reporter")) or _person(fields.get("creator")),
    })


def status_transitions(item_id: str, items: list, at: datetime | None, author: str | None) -> list[FlowRecord]:
    """One transition per changelog item that changed the status field."""
    if at is None:
        return []
    return [
        FlowRecord("transition", {"work_item_id": item_id, "from_status": item.get("fromString"),
                                  "to_status": item["toString"], "at": at, "author": author})
        for item in items or []
        if isinstance(item, dict) and (item.get("fieldId") or item.get("field") or "").lower() == "status"
        and item.get("toString")
    ]


def history_transitions(item_id: str, histories: list) -> list[FlowRecord]:
    """Transitions from a REST issue's `changelog.histories` (pull sync with expand=changelog)."""
    records = []
    for history in histories or []:
        records += status_transitions(item_id, history.get("items"), parse_time(history.get("created")),
                                      _person(history.get("author")))
    return records


@readable_errors("Jira")
def normalize_event(event_type: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """Records for one `jira:issue_created/updated/deleted` delivery; [] for anything else."""
    issue = payload.get("issue") if isinstance(payload, dict) else None
    if event_type not in ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted") \
            or not isinstance(issue, dict) or not (issue.get("id") or issue.get("key")):
        return []
    at = event_time(payload, issue)
    deleted = event_type == "jira:issue_deleted"
    # A deletion is newer than the issue's last edit, so it must win over it.
    item = work_item_record(issue, connection, deleted=deleted, updated=at if deleted else None)
    item_id = item.values["id"]
    author = _person(payload.get("user"))
    records = [item]
    transitions = status_transitions(item_id, (payload.get("changelog") or {}).get("items"), at, author)
    fields = issue.get("fields") or {}
    if event_type == "jira:issue_created" and not transitions and item.values["status"]:
        # The first status an issue gets is where its flow time starts.
        transitions = [FlowRecord("transition", {
            "work_item_id": item_id, "from_status": None, "to_status": item.values["status"],
            "at": parse_time(fields.get("created")) or at, "author": author})]
    return records + [t for t in transitions if t.values["at"] is not None]
