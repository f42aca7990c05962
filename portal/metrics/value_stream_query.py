"""The value stream map's aggregates in SQL, restricted to one scope and one window.

Passes are rows of `request_events` with the next event of the same request beside them (window
functions `LEAD` and `MIN … ROWS BETWEEN 2 FOLLOWING`), summed per request and stage, then per
stage: the database returns one row per stage, however many events there are.
"""

from __future__ import annotations

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.metrics.flow_scope import RequestScope, moved_in
from portal.metrics.value_stream import StageAggregate, value_stream_answer
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.stages import WORK


def _seconds_to_next_event(timeline: dict, dialect: str) -> ColumnElement:
    """Seconds from each event to the next one of the same request (NULL for the last), as a float."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.lead(RequestEvent.at).over(**timeline) - RequestEvent.at), Float)
    # SQLite stores times as text; julianday is a day count in a double, and rounding to the
    # millisecond removes its binary noise.
    day = func.julianday(RequestEvent.at)
    return func.round((func.lead(day).over(**timeline) - day) * 86_400.0, 3)


def _passes(scope: RequestScope, window: Window, dialect: str):  # noqa: ANN202 - a subquery
    """One row per event of the requests that moved in the window: the pass it starts and how it ended."""
    line = scope.stream.main_line
    position = case({stage: index for index, stage in enumerate(line)}, value=RequestEvent.to_stage, else_=None)
    # From the events of the window (ix_request_events_at) to their requests, rather than from every
    # request of the scope to its events: a product may have many more requests than move in a month
    # (for long windows it is the other way round: flow_scope.moved_in).
    moved = select(Request.id).where(moved_in(window), scope.condition)
    timeline = {"partition_by": RequestEvent.request_id, "order_by": (RequestEvent.at, RequestEvent.id)}
    return select(
        RequestEvent.request_id.label("request_id"),
        RequestEvent.to_stage.label("stage"),
        position.label("position"),
        func.lead(RequestEvent.at).over(**timeline).label("left_at"),
        _seconds_to_next_event(timeline, dialect).label("duration"),
        func.lead(position).over(**timeline).label("left_position"),
        func.lead(RequestEvent.work_time_seconds).over(**timeline).label("recorded"),
        # The earliest main-line stage entered after the event that ends this pass.
        func.min(position).over(**timeline, rows=(2, None)).label("later_position"),
    ).where(RequestEvent.request_id.in_(moved), RequestEvent.at < window.end).subquery()


def stage_aggregates(session: Session, scope: RequestScope, window: Window) -> dict[str, StageAggregate]:
    """Per main-line stage: the items that left it in the window and their summed times and exits."""
    dialect = session.get_bind().dialect.name
    passes = _passes(scope, window, dialect)
    work_stages = [stage.id for stage in scope.stream.stages if stage.type == WORK] or [""]
    duration = passes.c.duration
    work = case((passes.c.recorded.is_not(None),
                 case((cast(passes.c.recorded, Float) < duration, cast(passes.c.recorded, Float)), else_=duration)),
                (passes.c.stage.in_(work_stages), duration), else_=literal(0.0))
    left_in_window = passes.c.left_at >= window.start
    forward = and_(left_in_window, passes.c.left_position > passes.c.position)
    kept = and_(forward, or_(passes.c.later_position.is_(None), passes.c.later_position > passes.c.position))
    per_item = select(
        passes.c.stage,
        func.sum(duration).label("lead"),
        func.sum(work).label("process"),
        func.max(case((left_in_window, 1), else_=0)).label("left"),
        func.sum(case((forward, 1), else_=0)).label("forward"),
        func.sum(case((kept, 1), else_=0)).label("kept"),
    ).where(passes.c.left_at.is_not(None), passes.c.position.is_not(None)) \
        .group_by(passes.c.request_id, passes.c.stage).subquery()
    rows = session.execute(
        select(per_item.c.stage, func.count(), func.sum(per_item.c.lead), func.sum(per_item.c.process),
               func.sum(per_item.c.forward), func.sum(per_item.c.kept))
        .where(per_item.c.left == 1).group_by(per_item.c.stage))
    return {stage: StageAggregate(int(items), float(lead or 0), float(process or 0), int(forward or 0), int(kept or 0))
            for stage, items, lead, process, forward, kept in rows}


def scope_value_stream(session: Session, scope: RequestScope, window: Window) -> dict:
    """The value stream map of a scope over a window, in the API's shape."""
    return value_stream_answer(scope.stream, stage_aggregates(session, scope, window))
