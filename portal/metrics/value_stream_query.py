"""Read the timelines the value stream map needs, restricted in SQL to one scope and one window."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exists, select
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow_scope import RequestScope
from portal.metrics.value_stream import StageEvent, value_stream_map
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent


def scope_timelines(session: Session, scope: RequestScope, window: Window) -> Iterator[list[StageEvent]]:
    """The time-ordered events before the window's end of each request in scope that moved in the window.

    A request with no event in the window left no stage in it, so it is not read at all; one that did
    is read whole (up to the window's end) because its earlier passes count towards its lead time."""
    moved_in_window = exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start,
                                     RequestEvent.at < window.end)
    in_scope = select(Request.id).where(scope.condition, moved_in_window)
    statement = (
        select(RequestEvent.request_id, RequestEvent.at, RequestEvent.to_stage, RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(in_scope), RequestEvent.at < window.end)
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id)
    )
    current_id, timeline = None, []
    for request_id, at, to_stage, work_time in session.execute(statement):
        if request_id != current_id:
            if timeline:
                yield timeline
            current_id, timeline = request_id, []
        timeline.append(StageEvent(as_utc(at), to_stage, work_time))
    if timeline:
        yield timeline


def scope_value_stream(session: Session, scope: RequestScope, window: Window) -> dict:
    """The value stream map of a scope over a window, in the API's shape."""
    return value_stream_map(scope.stream, scope_timelines(session, scope, window), window)
