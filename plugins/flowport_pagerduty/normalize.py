"""PagerDuty v3 `incident.*` webhook events (and REST incidents) to incident records.

Records link through `pagerduty.com/service-id` = the incident's service id, lower-cased; an incident's id
is `pagerduty:<incident id>`. Every `incident.*` event carries the incident as it is after the event
(status, urgency and priority, service, assignees), so each one updates the record; the event's
`occurred_at` orders them, so a late delivery never rolls the incident back (portal/flow/lifecycle.py).
Status changes (triggered, acknowledged, unacknowledged, resolved, reopened) are also kept as the
incident's history: a reopen clears `resolved_at`, the next resolution sets it again."""

from __future__ import annotations

import json

from portal.flow.payload_shape import readable_errors
from portal.flow.records import FlowRecord, parse_time

LINK_ANNOTATION = "pagerduty.com/service-id"

_STATUSES = ("triggered", "acknowledged", "resolved")
# The status an incident has right after each status-changing event.
_STATUS_AFTER = {"triggered": "triggered", "acknowledged": "acknowledged", "unacknowledged": "triggered",
                 "resolved": "resolved", "reopened": "triggered"}


def _severity(incident: dict) -> str | None:
    # Priority (P1…) is set by responders and says more than the service's urgency when present.
    priority = incident.get("priority")
    if isinstance(priority, dict) and isinstance(priority.get("summary"), str) and priority["summary"]:
        return priority["summary"]
    urgency = incident.get("urgency")
    return urgency if isinstance(urgency, str) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _assignees(incident: dict) -> str | None:
    """The assignees' names as a JSON array; None when the payload does not say (not: nobody)."""
    if "assignees" in incident:
        people = incident.get("assignees")
    elif isinstance(incident.get("assignments"), list):  # REST incidents
        people = [a.get("assignee") for a in incident["assignments"] if isinstance(a, dict)]
    else:
        return None
    if not isinstance(people, list):
        return None
    names = [_text(p.get("summary")) or _text(p.get("id")) for p in people if isinstance(p, dict)]
    return json.dumps([name for name in names if name])


def _status(incident: dict, action: str | None) -> str | None:
    if action in _STATUS_AFTER:
        return _STATUS_AFTER[action]
    status = incident.get("status")
    return status if status in _STATUSES else None


def incident_record(incident: dict, connection: str = "default", action: str | None = None,
                    occurred_at: object = None) -> FlowRecord:
    """An incident as of one event (`action` is the event's verb) or a REST object (`action` None)."""
    occurred = parse_time(occurred_at)
    status = _status(incident, action)
    service = incident.get("service") if isinstance(incident.get("service"), dict) else {}
    service_id = _text(service.get("id"))
    resolved = parse_time(incident.get("resolved_at")) or (occurred if action == "resolved" else None)
    if status == "resolved" and resolved is None and action is None:
        # REST incidents say when their status last changed; for a resolved one that is the resolution.
        resolved = parse_time(incident.get("last_status_change_at"))
    values = {
        "id": f"pagerduty:{incident['id']}", "source": "pagerduty", "connection": connection,
        "link_annotation": LINK_ANNOTATION if service_id else None,
        "link_value": service_id.lower() if service_id else None,
        "url": _text(incident.get("html_url")),
        "source_updated_at": occurred or parse_time(incident.get("updated_at")),
        "title": _text(incident.get("title")) or _text(incident.get("summary")), "severity": _severity(incident),
        "status": status,
        # The earliest known creation wins (lifecycle.py), so any event may offer its own time.
        "created_at": parse_time(incident.get("created_at")) or (occurred if action == "triggered" else None),
        "acknowledged_at": occurred if action == "acknowledged" else None,
        "resolved_at": resolved if status == "resolved" else None,
        "assignees": _assignees(incident),
    }
    # An event that does not say the status still says the incident exists: "triggered" only for a new row.
    return FlowRecord("incident", values, defaults={"status": "triggered"})


def history_record(incident_id: str, event: str, status: str, at: object, actor: str | None) -> FlowRecord | None:
    """One entry of an incident's history; None without a time to put it at."""
    when = parse_time(at)
    if when is None:
        return None
    return FlowRecord("incident_event", {"incident_id": incident_id, "event": event, "status": status, "at": when,
                                         "actor": actor})


def rest_history(incident: dict) -> list[FlowRecord]:
    """What a REST incident says of its history: when it was triggered, and its current status since
    `last_status_change_at` (a `triggered` one after a stored resolution shows as reopened)."""
    record_id = f"pagerduty:{incident['id']}"
    entries = [history_record(record_id, "triggered", "triggered", incident.get("created_at"), None)]
    status = incident.get("status")
    changed = incident.get("last_status_change_at") or (incident.get("resolved_at") if status == "resolved" else None)
    if status in _STATUSES and changed and parse_time(changed) != parse_time(incident.get("created_at")):
        entries.append(history_record(record_id, status, status, changed, None))
    return [entry for entry in entries if entry is not None]


@readable_errors("PagerDuty")
def normalize_event(payload: dict, connection: str = "default") -> list[FlowRecord]:
    """Records for one v3 webhook delivery; [] for events that are not about an incident."""
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict):
        return []
    event_type = event.get("event_type")
    incident = event.get("data")
    if not isinstance(event_type, str) or not event_type.startswith("incident.") or not isinstance(incident, dict) \
            or not isinstance(incident.get("id"), str | int) or incident.get("type", "incident") != "incident":
        return []
    action = event_type.split(".", 1)[1]
    record = incident_record(incident, connection, action, event.get("occurred_at"))
    records = [record]
    if action in _STATUS_AFTER:
        agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
        entry = history_record(record.values["id"], action, _STATUS_AFTER[action], event.get("occurred_at"),
                               _text(agent.get("summary")))
        records += [entry] if entry else []
    return records
