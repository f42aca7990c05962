"""The flow figures a portfolio row shows (flow time, flow efficiency, load), for many scopes at once,
without building every flow item: the same numbers as flow_requests.scoped_flow_metrics gives for them.

Flow time and efficiency only look at the items finished in the window, and load only counts the items
in progress at its end. So SQL gives, per request that moved in the window, its stage at the window's end
and its first arrival at delivery (or a later stage); only the requests that finished in the window are
read with their events, and the ones in progress are counted."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from sqlalchemy import DateTime, exists, func, or_, select, type_coerce
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow import flow_efficiency, flow_time
from portal.metrics.flow_requests import StreamShape, _before_delivery, _Membership, _stream_keys, shaped_item
from portal.metrics.flow_scope import RequestScope, moved_in
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.stages import WORK


def _last_before(window: Window, column):  # noqa: ANN001, ANN202 - a column of the request's last event before the end
    return select(column).where(RequestEvent.request_id == Request.id, RequestEvent.at < window.end) \
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()).limit(1).scalar_subquery()


def _first_arrival(window: Window, stages: Sequence[str]):  # noqa: ANN202 - a scalar subquery
    """When the request first entered one of `stages` before the window's end (flow_requests._finished_at)."""
    return select(func.min(RequestEvent.at)).where(RequestEvent.request_id == Request.id,
                                                   RequestEvent.at < window.end,
                                                   RequestEvent.to_stage.in_(list(stages))).scalar_subquery()


def scoped_flow_headlines(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Per scope: `flowTime` and `efficiency` as flow_metrics answers them, and `load` with `wip` only."""
    if not scopes:
        return []
    keys = _stream_keys(scopes)
    streams = {key: scope.stream for key, scope in zip(keys, scopes)}
    shapes = {key: StreamShape(stream) for key, stream in streams.items()}
    open_stages = {key: _before_delivery(stream) for key, stream in streams.items()}
    finishing = {key: stream.main_line[stream.main_line.index(stream.delivery_stage):]
                 for key, stream in streams.items()}
    membership = _Membership(scopes)
    existing = (or_(*(scope.condition for scope in scopes)), Request.created_at < window.end)
    scope_columns = (Request.kind, Request.product_ref, Request.capability_ref)
    wip = [0] * len(scopes)

    # In progress and quiet since the window's start: counted by current stage.
    quiet = ~exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start)
    every_open = sorted({stage for stages in open_stages.values() for stage in stages})
    for row in session.execute(select(*scope_columns, Request.stage, func.count().label("requests"))
                               .where(*existing, quiet, Request.stage.in_(every_open))
                               .group_by(*scope_columns, Request.stage)):
        for index in membership.of(row):
            wip[index] += row.requests if row.stage in open_stages[keys[index]] else 0

    # Moved only after the window (a past one): in the stage of their last move before its end.
    moved_after = session.execute(
        select(*scope_columns, _last_before(window, RequestEvent.to_stage).label("stage_at_end"))
        .where(*existing, Request.id.in_(select(RequestEvent.request_id).where(RequestEvent.at >= window.end)),
               ~exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start,
                               RequestEvent.at < window.end)))
    for row in moved_after:
        for index in membership.of(row):
            wip[index] += row.stage_at_end in open_stages[keys[index]]

    # Moved inside the window: in progress by their last stage; finished when they first arrived at
    # delivery (or later) inside it.
    arrivals = {key: _first_arrival(window, stages).label(f"finished_{key}") for key, stages in finishing.items()}
    moved = session.execute(
        select(Request.id, *scope_columns, Request.created_at, Request.flow_item_type,
               _last_before(window, RequestEvent.to_stage).label("stage_at_end"), *arrivals.values())
        .where(*existing, moved_in(window)))
    finished: dict[int, tuple] = {}
    for row in moved:
        for index in membership.of(row):
            key = keys[index]
            wip[index] += row.stage_at_end in open_stages[key]
            if window.contains(as_utc(getattr(row, f"finished_{key}"))):
                finished.setdefault(row.id, row)
    items: list[list] = [[] for _ in scopes]
    if finished:
        events = session.execute(
            select(RequestEvent.request_id, type_coerce(RequestEvent.at, DateTime(timezone=True)),
                   RequestEvent.to_stage, RequestEvent.work_time_seconds)
            .where(RequestEvent.request_id.in_(sorted(finished)), RequestEvent.at < window.end)
            .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
        for request_id, group in groupby(events, key=lambda event: event[0]):
            row = finished[request_id]
            timeline = [(as_utc(at), stage, work) for _, at, stage, work in group]
            built = {}
            for index in membership.of(row):
                key = keys[index]
                if not window.contains(as_utc(getattr(row, f"finished_{key}"))):
                    continue
                if key not in built:
                    built[key] = shaped_item(shapes[key], row.created_at, row.flow_item_type, timeline)
                items[index].append(built[key])
    answers = []
    for index, scope in enumerate(scopes):
        work_states = frozenset(stage.id for stage in scope.stream.stages if stage.type == WORK)
        answers.append({"flowTime": flow_time(items[index], window),
                        "efficiency": flow_efficiency(items[index], window, work_states),
                        "load": {"wip": wip[index]}})
    return answers
