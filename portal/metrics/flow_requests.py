"""Requests as flow items: their stages as states, delivery as the finish, terminal stages as endings."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import func, select
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow import FlowItem, Pass, flow_metrics
from portal.metrics.flow_scope import RequestScope
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.stages import WORK, ValueStream


def _finished_at(stream: ValueStream, events: list[tuple]) -> object:
    """When the request first arrived at its delivery stage or a later one; None when it has not."""
    line = stream.main_line
    delivery = line.index(stream.delivery_stage)
    return next((at for at, stage, _ in events if stage in line and line.index(stage) >= delivery), None)


def _in_progress(stream: ValueStream, events: list[tuple]) -> bool:
    """In a main-line stage before delivery at the end (a request moved back after delivery counts again)."""
    line = stream.main_line
    return bool(events) and events[-1][1] in line and line.index(events[-1][1]) < line.index(stream.delivery_stage)


def request_item(stream: ValueStream, created_at, flow_type: str, events: list[tuple]) -> FlowItem:  # noqa: ANN001
    """A request's flow item from its time-ordered (at, to_stage, work_time_seconds) events."""
    passes = tuple(
        Pass(stage, at, events[index + 1][0] if index + 1 < len(events) else None,
             events[index + 1][2] if index + 1 < len(events) else None)
        for index, (at, stage, _) in enumerate(events))
    return FlowItem(as_utc(created_at), flow_type, passes, _finished_at(stream, events), _in_progress(stream, events))


def _before_delivery(stream: ValueStream) -> list[str]:
    line = stream.main_line
    return list(line[:line.index(stream.delivery_stage)])


def request_items(session: Session, scope: RequestScope, window: Window) -> tuple[list[FlowItem], dict[str, int]]:
    """The scope's requests created before the window's end as flow items, and a per-stage count of
    those that are quiet (no event since the window's start) and not in progress.

    Quiet requests sit in their current stage through the whole window: the finished and ended ones
    only add to the cumulative flow diagram (counted in SQL), the ones in progress need only their
    age. Only the others are read with their events, so a long history costs little."""
    stream = scope.stream
    moved_since_start = select(RequestEvent.request_id).where(RequestEvent.at >= window.start)
    existing = (scope.condition, Request.created_at < window.end)
    quiet = Request.id.not_in(moved_since_start)
    open_stages = _before_delivery(stream)
    baseline = dict(session.execute(
        select(Request.stage, func.count()).where(*existing, quiet, Request.stage.not_in(open_stages))
        .group_by(Request.stage)).all())
    items = [FlowItem(as_utc(created_at), flow_type, (Pass(stage, as_utc(created_at), None),), None, True)
             for created_at, flow_type, stage in session.execute(
                 select(Request.created_at, Request.flow_item_type, Request.stage)
                 .where(*existing, quiet, Request.stage.in_(open_stages)))]
    moved = select(Request.id).where(*existing, Request.id.in_(moved_since_start))
    requests = {row.id: row for row in session.execute(
        select(Request.id, Request.created_at, Request.flow_item_type).where(Request.id.in_(moved)))}
    rows = session.execute(
        select(RequestEvent.request_id, RequestEvent.at, RequestEvent.to_stage, RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(moved), RequestEvent.at < window.end)
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
    for request_id, group in groupby(rows, key=lambda row: row[0]):
        request = requests[request_id]
        events = [(as_utc(at), stage, work) for _, at, stage, work in group]
        items.append(request_item(stream, request.created_at, request.flow_item_type, events))
    return items, baseline


def request_flow_metrics(session: Session, scope: RequestScope, window: Window) -> dict:
    stream = scope.stream
    work_states = frozenset(stage.id for stage in stream.stages if stage.type == WORK)
    items, baseline = request_items(session, scope, window)
    return flow_metrics(items, window, work_states=work_states, states=[stage.id for stage in stream.stages],
                        baseline=baseline)
