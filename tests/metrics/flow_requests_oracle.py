"""An oracle for the request flow metrics: each request's flow item built from its stage events and the
generic flow functions (portal/metrics/flow.py) applied to them, as the portal computed them before it
read the passes its writers keep (portal/metrics/flow_requests.py). Tests compare the two."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from sqlalchemy import DateTime, exists, func, or_, select, type_coerce
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow import FlowItem, Pass, flow_metrics
from portal.metrics.flow_requests import _Membership  # plumbing shared; the figures are the oracle's own
from portal.metrics.flow_scope import RequestScope, moved_in
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent
from portal.requests.stages import WORK, ValueStream


class StreamShape:
    """Where each main-line stage of a value stream sits, and where delivery does: what a request's flow item
    is built from, looked up once per stream rather than once per event."""

    def __init__(self, stream: ValueStream) -> None:
        line = stream.main_line
        self.delivery = line.index(stream.delivery_stage)
        self.position: dict[str, int] = {}
        for index, stage in enumerate(line):
            self.position.setdefault(stage, index)


def _finished_at(shape: StreamShape, events: list[tuple]) -> object:
    """When the request first arrived at its delivery stage or a later one; None when it has not."""
    return next((at for at, stage, _ in events if shape.position.get(stage, -1) >= shape.delivery), None)


def _in_progress(shape: StreamShape, events: list[tuple]) -> bool:
    """In a main-line stage before delivery at the end (a request moved back after delivery counts again)."""
    return bool(events) and shape.position.get(events[-1][1], shape.delivery) < shape.delivery


def shaped_item(shape: StreamShape, created_at, flow_type: str, events: list[tuple]) -> FlowItem:  # noqa: ANN001
    """A request's flow item from its time-ordered (at, to_stage, work_time_seconds) events: each event starts
    a pass that the next one ends (with the work the next one records)."""
    following = events[1:] + [(None, None, None)]
    passes = tuple(Pass(stage, at, after[0], after[2]) for (at, stage, _), after in zip(events, following))
    return FlowItem(as_utc(created_at), flow_type, passes, _finished_at(shape, events), _in_progress(shape, events))


def request_item(stream: ValueStream, created_at, flow_type: str, events: list[tuple]) -> FlowItem:  # noqa: ANN001
    """A request's flow item from its time-ordered (at, to_stage, work_time_seconds) events."""
    return shaped_item(StreamShape(stream), created_at, flow_type, events)


def _before_delivery(stream: ValueStream) -> list[str]:
    line = stream.main_line
    return list(line[:line.index(stream.delivery_stage)])


def _totals(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[Counter]:
    """Per scope: its requests created before the window's end, counted by current stage (one query per
    kind of scope, each a range of an index that leads with the scope's column)."""
    totals = [Counter() for _ in scopes]
    for column, key in ((Request.capability_ref, "capability_ref"), (Request.product_ref, "product_ref")):
        chosen = [(index, scope) for index, scope in enumerate(scopes)
                  if (scope.capability_ref is not None) == (key == "capability_ref")]
        for kind in sorted({scope.kind for _, scope in chosen}):
            values = sorted({getattr(scope, key) for _, scope in chosen if scope.kind == kind})
            rows = session.execute(
                select(column, Request.stage, func.count())
                .where(column.in_(values), Request.kind == kind, Request.created_at < window.end)
                .group_by(column, Request.stage)).all()
            for value, stage, count in rows:
                for index, scope in chosen:
                    if scope.kind == kind and getattr(scope, key) == value:
                        totals[index][stage] += count
    return totals


def _stream_keys(scopes: Sequence[RequestScope]) -> list[int]:
    """A number per scope, equal for scopes with equal value streams (a product's and its capabilities')."""
    known: dict[ValueStream, int] = {}
    return [known.setdefault(scope.stream, len(known)) for scope in scopes]


def scoped_request_items(session: Session, scopes: Sequence[RequestScope], window: Window
                         ) -> list[tuple[list[FlowItem], dict[str, int]]]:
    """For each scope: its requests created before the window's end as flow items, and a per-stage count
    of those that are not in progress and sit in one stage through the whole window.

    Only the requests that moved inside the window are read with their events, once for all the scopes
    (a product and its capabilities share their orders), so a long history costs little. The others sit
    in one stage through the window: their current stage for those quiet since its start, the stage of
    their last move before its end for those that moved only after it (a past window). In progress,
    they are items that need only their age; else they only add to the cumulative flow diagram,
    counted per stage from an index (every request's current stage, less those that moved)."""
    if not scopes:
        return []
    # NOT EXISTS rather than NOT IN: PostgreSQL cannot hash a year of events in its working memory and
    # would then scan them once per request.
    quiet = ~exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start)
    existing = (or_(*(scope.condition for scope in scopes)), Request.created_at < window.end)
    columns = (Request.id, Request.kind, Request.product_ref, Request.capability_ref, Request.created_at,
               Request.flow_item_type, Request.stage)
    open_stages = [_before_delivery(scope.stream) for scope in scopes]
    quiet_open = session.execute(
        select(*columns).where(*existing, quiet,
                               Request.stage.in_(sorted({stage for stages in open_stages for stage in stages})))
        .order_by(Request.id)).all()
    moved = select(Request.id).where(*existing, moved_in(window))
    requests = {row.id: row for row in session.execute(select(*columns).where(Request.id.in_(moved)))}
    def last_before_end(column):  # noqa: ANN001, ANN202 - a column of the request's last event before the end
        return select(column).where(RequestEvent.request_id == Request.id, RequestEvent.at < window.end) \
            .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()).limit(1).scalar_subquery()

    moved_after = session.execute(
        select(*columns, last_before_end(RequestEvent.to_stage).label("stage_at_end"),
               last_before_end(RequestEvent.at).label("moved_at"))
        .where(*existing, Request.id.in_(select(RequestEvent.request_id).where(RequestEvent.at >= window.end)),
               ~exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start,
                               RequestEvent.at < window.end))).all()
    # The times as the driver gives them, made UTC once below (UTCDateTime would convert each twice).
    rows = session.execute(
        select(RequestEvent.request_id, type_coerce(RequestEvent.at, DateTime(timezone=True)), RequestEvent.to_stage,
               RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(moved), RequestEvent.at < window.end)
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
    keys = _stream_keys(scopes)
    shapes = {key: StreamShape(scope.stream) for key, scope in zip(keys, scopes)}
    membership = _Membership(scopes)
    members = {row.id: membership.of(row) for row in (*requests.values(), *moved_after)}
    # (request id, item) per scope: moved requests keep their id order, after the quiet ones.
    items: list[list[tuple[int, FlowItem]]] = [[] for _ in scopes]
    for request_id, group in groupby(rows, key=lambda row: row[0]):
        request = requests[request_id]
        events = [(as_utc(at), stage, work) for _, at, stage, work in group]
        built: dict[int, FlowItem] = {}  # scopes with one value stream share the item
        for index in members[request_id]:
            if keys[index] not in built:
                built[keys[index]] = shaped_item(shapes[keys[index]], request.created_at, request.flow_item_type,
                                                 events)
            items[index].append((request_id, built[keys[index]]))
    sitting: list[list[FlowItem]] = [[] for _ in scopes]
    for row in quiet_open:
        for index in membership.of(row):
            if row.stage in open_stages[index]:
                sitting[index].append(_sitting(row, row.stage, row.created_at))
    baselines = [Counter(total) for total in _totals(session, scopes, window)]
    for row in requests.values():
        for index in members[row.id]:
            baselines[index][row.stage] -= 1
    for row in moved_after:
        for index in members[row.id]:
            baselines[index][row.stage] -= 1
            if row.stage_at_end in open_stages[index]:
                # Its pass starts at its last move before the window (its passes before that end before it).
                items[index].append((row.id, _sitting(row, row.stage_at_end, row.moved_at)))
            elif row.stage_at_end is not None:  # a request with no move before the window's end is not there yet
                baselines[index][row.stage_at_end] += 1
    return [(sitting[index] + [item for _, item in sorted(items[index], key=lambda pair: pair[0])],
             {stage: count for stage, count in baselines[index].items() if stage not in open_stages[index] and count})
            for index in range(len(scopes))]


def _sitting(row, stage: str, since) -> FlowItem:  # noqa: ANN001 - a request row and a time
    """A request in progress that sits in `stage` through the window: one pass, from `since`."""
    return FlowItem(as_utc(row.created_at), row.flow_item_type, (Pass(stage, as_utc(since), None),), None, True)


def request_items(session: Session, scope: RequestScope, window: Window) -> tuple[list[FlowItem], dict[str, int]]:
    """One scope's flow items and quiet baseline (scoped_request_items)."""
    return scoped_request_items(session, [scope], window)[0]


def scope_flow_metrics(scope: RequestScope, items: list[FlowItem], baseline: dict[str, int], window: Window) -> dict:
    stream = scope.stream
    work_states = frozenset(stage.id for stage in stream.stages if stage.type == WORK)
    return flow_metrics(items, window, work_states=work_states, states=[stage.id for stage in stream.stages],
                        baseline=baseline)


def scoped_flow_metrics(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Every flow metric of each scope over the window, reading the requests of all of them once."""
    return [scope_flow_metrics(scope, items, baseline, window)
            for scope, (items, baseline) in zip(scopes, scoped_request_items(session, scopes, window))]


def request_flow_metrics(session: Session, scope: RequestScope, window: Window) -> dict:
    return scoped_flow_metrics(session, [scope], window)[0]
