"""GET /api/v1/flow/...: normalized flow records in the catalog API's paging shape."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Query
from sqlalchemy import select

from portal.auth.identity import require
from portal.db import SessionDep
from portal.errors import CatalogApiError
from portal.flow.incident_history import incident_histories
from portal.flow.models import FlowIncident, FlowWorkItem, FlowWorkItemTransition
from portal.flow.query import FlowQuery, decode_cursor, entity_links, iso, list_records, parse_api_time
from portal.flow.summary import entity_summary

router = APIRouter(prefix="/api/v1/flow", tags=["flow"], dependencies=[require("flow.records.read")])

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class FlowCollection(str, Enum):
    """The record collections of the flow API."""

    changes = "changes"
    commits = "commits"
    deployments = "deployments"
    incidents = "incidents"
    pipeline_runs = "pipeline-runs"
    releases = "releases"
    work_items = "work-items"


@router.get("/summary")
def flow_summary(session: SessionDep, entity: str = Query(..., description="Entity ref, e.g. component:default/api")) -> dict:
    """Recent changes, latest deployment per environment, open incidents and pipeline health of an entity."""
    ref, links = entity_links(session, entity)
    return {"entityRef": ref, "links": [{"annotation": a, "value": v} for a, v in links],
            **entity_summary(session, links)}


@router.get("/work-items/{item_id:path}/transitions")
def work_item_transitions(item_id: str, session: SessionDep) -> dict:
    """The status history of one work item, oldest first."""
    if session.get(FlowWorkItem, item_id) is None:
        raise CatalogApiError(404, f"No work item {item_id!r}")
    rows = session.execute(
        select(FlowWorkItemTransition).where(FlowWorkItemTransition.work_item_id == item_id)
        .order_by(FlowWorkItemTransition.at, FlowWorkItemTransition.id)
    ).scalars().all()
    items = [{"fromStatus": row.from_status, "toStatus": row.to_status, "at": iso(row.at), "author": row.author}
             for row in rows]
    return {"workItemId": item_id, "items": items, "totalItems": len(items)}


@router.get("/incidents/{incident_id:path}/history")
def incident_history(incident_id: str, session: SessionDep) -> dict:
    """The status changes of one incident, oldest first (a reopen shows as `change: reopened`)."""
    incident = session.get(FlowIncident, incident_id)
    if incident is None:
        raise CatalogApiError(404, f"No incident {incident_id!r}")
    items = [{**entry, "at": iso(entry["at"])} for entry in incident_histories(session, [incident_id])[incident_id]]
    return {"incidentId": incident_id, "status": incident.status, "createdAt": iso(incident.created_at),
            "resolvedAt": iso(incident.resolved_at), "items": items, "totalItems": len(items)}


@router.get("/{collection}")
def list_flow_records(
    collection: FlowCollection,
    session: SessionDep,
    entity: str | None = Query(None, description="Only records linked to this entity (kind:namespace/name)"),
    since: str | None = Query(None, description="Main time at or after this ISO-8601 time"),
    until: str | None = Query(None, description="Main time before this ISO-8601 time"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, description="pageInfo.nextCursor or prevCursor of a previous page"),
) -> dict:
    """Records newest first (createdAt for changes, incidents and work items; startedAt for deployments
    and pipeline runs; authoredAt for commits; publishedAt, else createdAt, for releases); a cursor keeps
    the filters of the page it came from."""
    if cursor:
        query = decode_cursor(cursor, collection.value, limit)
    else:
        query = FlowQuery(kind=collection.value, entity=entity, since=parse_api_time(since, "since"),
                          until=parse_api_time(until, "until"), limit=limit)
    page = list_records(session, query)
    page_info: dict = {}
    if page.next_cursor:
        page_info["nextCursor"] = page.next_cursor
    if page.prev_cursor:
        page_info["prevCursor"] = page.prev_cursor
    return {"items": page.items, "totalItems": page.total_items, "pageInfo": page_info}
