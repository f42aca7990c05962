"""PagerDuty v3 `incident.*` webhook events (and REST incidents) to incident records.

Records link through `pagerduty.com/service-id` = the incident's service id, lower-cased; an incident's id
is `pagerduty:<incident id>`. Each event contributes what it knows (triggered: created_at;
acknowledged: acknowledged_at; resolved: resolved_at) and the writer keeps the rest, so the three
events of one incident build one row in whatever order they arrive."""

from __future__ import annotations

from portal.flow.records import FlowRecord, parse_time

LINK_ANNOTATION = "pagerduty.com/service-id"

_STATUSES = ("triggered", "acknowledged", "resolved")


def _severity(incident: dict) -> str | None:
    # Priority (P1…) is set by responders and says more than the service's urgency when present.
    priority = incident.get("priority")
    if isinstance(priority, dict) and priority.get("summary"):
        return priority["summary"]
    return incident.get("urgency")


def incident_record(incident: dict, connection: str = "default", action: str | None = None,
                    occurred_at: object = None) -> FlowRecord:
    """An incident; `action` is the event's verb (triggered/acknowledged/resolved), None for REST objects."""
    occurred = parse_time(occurred_at)
    status = action if action in _STATUSES else incident.get("status")
    service_id = (incident.get("service") or {}).get("id")
    values = {
        "id": f"pagerduty:{incident['id']}", "source": "pagerduty", "connection": connection,
        "link_annotation": LINK_ANNOTATION if service_id else None,
        "link_value": service_id.lower() if service_id else None,
        "url": incident.get("html_url"),
        "source_updated_at": occurred or parse_time(incident.get("updated_at")),
        "title": incident.get("title") or incident.get("summary"), "severity": _severity(incident),
        "status": status if status in _STATUSES else None,
        "created_at": parse_time(incident.get("created_at")) or (occurred if action == "triggered" else None),
        "acknowledged_at": occurred if action == "acknowledged" else None,
        "resolved_at": parse_time(incident.get("resolved_at")) or (occurred if action == "resolved" else None),
    }
    # An event type we do not map still says the incident exists: "triggered" only for a new row.
    return FlowRecord("incident", values, defaults={"status": "triggered"})


def normalize_event(payload: dict, connection: str = "default") -> list[FlowRecord]:
    """Records for one v3 webhook delivery; [] for events that are not about an incident."""
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict):
        return []
    event_type = event.get("event_type") or ""
    incident = event.get("data")
    if not event_type.startswith("incident.") or not isinstance(incident, dict) or not incident.get("id") \
            or incident.get("type", "incident") != "incident":
        return []
    action = event_type.split(".", 1)[1]
    return [incident_record(incident, connection, action, event.get("occurred_at"))]
