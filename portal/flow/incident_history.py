"""An incident's history of status changes, as the API shows it with each incident.

Rows keep the tool's own word for each event (PagerDuty's `reopened`, CDEvents' `detected`, GitLab's
`close`) and the status after it; `change` says what the event did in one vocabulary for every tool:
opened, acknowledged, unacknowledged, resolved, reopened (any open status right after a resolution,
e.g. a CDEvents `detected` after `resolved`), or updated (the status did not move)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session

from portal.flow.models import FlowIncidentEvent


def _change(previous: str | None, status: str) -> str:
    if status == "resolved":
        return "updated" if previous == "resolved" else "resolved"
    if previous is None:
        return "opened"
    if previous == "resolved":
        return "reopened"
    if previous == status:
        return "updated"
    return "acknowledged" if status == "acknowledged" else "unacknowledged"


def history_json(rows: Iterable[FlowIncidentEvent]) -> list[dict]:
    """Rows of one incident, oldest first, with what each changed (`at` stays a datetime for the caller to format)."""
    items, previous = [], None
    for row in sorted(rows, key=lambda r: (r.at, r.id or 0)):
        items.append({"at": row.at, "event": row.event, "status": row.status,
                      "change": _change(previous, row.status), "actor": row.actor})
        previous = row.status
    return items


def incident_histories(session: Session, incident_ids: Iterable[str]) -> dict[str, list[dict]]:
    """The history of each incident, read in one query for a whole page of incidents."""
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    rows = session.execute(select(FlowIncidentEvent).where(FlowIncidentEvent.incident_id.in_(ids))).scalars().all()
    grouped: dict[str, list[FlowIncidentEvent]] = {incident_id: [] for incident_id in ids}
    for row in rows:
        grouped[row.incident_id].append(row)
    return {incident_id: history_json(group) for incident_id, group in grouped.items()}
