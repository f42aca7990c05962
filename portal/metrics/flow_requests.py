"""Requests as flow items: their stages as states, delivery as the finish, terminal stages as endings."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select
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


def request_items(session: Session, scope: RequestScope, window: Window) -> list[FlowItem]:
    """Every request of the scope created before the window's end, with its events before that end."""
    in_scope = select(Request.id).where(scope.condition, Request.created_at < window.end)
    requests = {row.id: row for row in session.execute(
        select(Request.id, Request.created_at, Request.flow_item_type).where(scope.condition,
                                                                             Request.created_at < window.end))}
    rows = session.execute(
        select(RequestEvent.request_id, RequestEvent.at, RequestEvent.to_stage, RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(in_scope), RequestEvent.at < window.end)
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
    items = []
    for request_id, group in groupby(rows, key=lambda row: row[0]):
        request = requests.get(request_id)
        if request is None:
            continue
        events = [(as_utc(at), stage, work) for _, at, stage, work in group]
        items.append(request_item(scope.stream, request.created_at, request.flow_item_type, events))
    return items


def request_flow_metrics(session: Session, scope: RequestScope, window: Window) -> dict:
    stream = scope.stream
    work_states = frozenset(stage.id for stage in stream.stages if stage.type == WORK)
    return flow_metrics(request_items(session, scope, window), window, work_states=work_states,
                        states=[stage.id for stage in stream.stages])
