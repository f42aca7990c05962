"""Jira `jira:issue_*` webhook payloads (and REST issues with `expand=changelog`) to flow records.

Records link through `jira/project-key` = the issue's project key, lower-cased. A work item's id is
`jira:<site host>:<issue id>`: the numeric id survives moving the issue to another project (its key does
not), and the host keeps two Jira sites apart. Each changelog item on the `status` field becomes a
transition (fromString -> toString) at the time of the event."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

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
    """When the event happened: `timestamp` is epoch milliseconds in Jira's webhooks."""
    stamp = payload.get("timestamp")
    if isinstance(stamp, str) and stamp.isdigit():
        stamp = int(stamp)
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp / 1000, UTC)
    # Some senders put a zone-less local time here; the issue's `updated` is the same moment with its zone.
    return parse_time(stamp) or parse_time((issue.get("fields") or {}).get("updated"))


def _person(user: dict | None) -> str | None:
    user = user or {}
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
    return FlowRecord("work_item", {
        "id": work_item_id(issue, connection), "source": "jira", "connection": connection,
        "link_annotation": LINK_ANNOTATION if project_key else None,
        "link_value": project_key.lower() if project_key else None,
        "url": f"{base_url}/browse/{key}" if base_url and key else None,
        "source_updated_at": updated or parse_time(fields.get("updated")),
        "key": key or str(issue.get("id")), "title": fields.get("summary"),
        "item_type": (fields.get("issuetype") or {}).get("name"), "status": status.get("name"),
        "status_category": _STATUS_CATEGORIES.get((status.get("statusCategory") or {}).get("key") or ""),
        "created_at": parse_time(fields.get("created")), "resolved_at": parse_time(fields.get("resolutiondate")),
        "deleted": deleted,
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
