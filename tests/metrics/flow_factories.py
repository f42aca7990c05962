"""Requests with explicit timelines for metric tests, written straight to the tables the metrics read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from portal.requests.models import Request, RequestEvent
from portal.requests.stages import first_delivery

T0 = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW = {"from": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}


def hours(count: float) -> datetime:
    """`count` hours after T0."""
    return T0 + timedelta(hours=count)


def make_request(session: Session, events: list[tuple], *, capability: str | None = "ci-pipeline",
                 product: str = "delivery-platform", kind: str = "order", flow_item_type: str = "feature",
                 title: str = "test request") -> Request:
    """A request whose timeline is `events`: (at, to_stage) or (at, to_stage, work_time_seconds), in order."""
    row = Request(kind=kind, title=title, requester_ref="user:default/rui.requester",
                  capability_ref=f"capability:default/{capability}" if capability else None,
                  product_ref=f"platformproduct:default/{product}", stage=events[-1][1],
                  flow_item_type=flow_item_type, created_at=events[0][0], updated_at=events[-1][0],
                  delivered_at=first_delivery((event[0], event[1]) for event in events))
    session.add(row)
    session.flush()
    previous = None
    for event in events:
        at, to_stage, work = (*event, None)[:3]
        session.add(RequestEvent(request_id=row.id, at=at, actor="user:default/olga.owner", from_stage=previous,
                                 to_stage=to_stage, source="user", work_time_seconds=work))
        previous = to_stage
    session.flush()
    return row
