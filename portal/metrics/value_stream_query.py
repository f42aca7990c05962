"""The value stream map's aggregates in SQL, restricted to one scope and one window.

They are read from the passes the request writers keep (portal/requests/passes.py): the passes that
ended in the window are one range of an index per scope, and the database returns one row per stage.
A request's last exit from a stage before the window's end is the pass whose next exit from that stage
is after it (or never); its running totals are the request's whole time and work in the stage.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import Session

from portal.metrics.flow_scope import RequestScope
from portal.metrics.value_stream import StageAggregate, value_stream_answer
from portal.metrics.window import Window
from portal.requests.passes_models import RequestPass


def stage_aggregates(session: Session, scope: RequestScope, window: Window) -> dict[str, StageAggregate]:
    """Per main-line stage: the items that left it in the window and their summed times and exits."""
    scope.bring_up_to_date(session)
    last_exit = or_(RequestPass.next_exit_at.is_(None), RequestPass.next_exit_at >= window.end)
    kept = and_(RequestPass.forward, or_(RequestPass.returned_at.is_(None), RequestPass.returned_at >= window.end))
    zero = literal(0.0)
    rows = session.execute(
        select(RequestPass.stage,
               func.sum(case((last_exit, 1), else_=0)),
               func.sum(case((last_exit, RequestPass.stage_seconds), else_=zero)),
               func.sum(case((last_exit, RequestPass.stage_work_seconds), else_=zero)),
               func.sum(case((RequestPass.forward, 1), else_=0)),
               func.sum(case((kept, 1), else_=0)))
        # The main line's stages (those with a position in the stream the passes were derived with).
        .where(scope.pass_condition, RequestPass.stage.in_(scope.stream.main_line), RequestPass.left_at >= window.start,
               RequestPass.left_at < window.end)
        .group_by(RequestPass.stage))
    return {stage: StageAggregate(int(items), float(lead or 0), float(process or 0), int(forward or 0), int(kept or 0))
            for stage, items, lead, process, forward, kept in rows if items}


def scope_value_stream(session: Session, scope: RequestScope, window: Window) -> dict:
    """The value stream map of a scope over a window, in the API's shape."""
    return value_stream_answer(scope.stream, stage_aggregates(session, scope, window))
