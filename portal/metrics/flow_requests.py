"""Requests as flow items: their stages as states, delivery as the finish, terminal stages as endings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from sqlalchemy import exists, func, or_, select
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


def _belongs(scope: RequestScope, row) -> bool:  # noqa: ANN001 - a row with kind, product_ref and capability_ref
    """Python's reading of `scope.condition` for a row already read with the union of the scopes' conditions."""
    if row.kind != scope.kind:
        return False
    return row.capability_ref == scope.capability_ref if scope.capability_ref is not None \
        else row.product_ref == scope.product_ref


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


def scoped_request_items(session: Session, scopes: Sequence[RequestScope], window: Window
                         ) -> list[tuple[list[FlowItem], dict[str, int]]]:
    """For each scope: its requests created before the window's end as flow items, and a per-stage count
    of those that are quiet (no event since the window's start) and not in progress.

    Quiet requests sit in their current stage through the whole window: the finished and ended ones
    only add to the cumulative flow diagram (their count is every request's by stage, from an index,
    less the ones that moved), the ones in progress need only their age. Only the others are read with
    their events, once for all the scopes (a product and its capabilities share their orders), so a long
    history costs little."""
    if not scopes:
        return []
    moved_since_start = select(RequestEvent.request_id).where(RequestEvent.at >= window.start)
    # NOT EXISTS rather than NOT IN: PostgreSQL cannot hash a year of events in its working memory and
    # would then scan them once per request.
    quiet = ~exists().where(RequestEvent.request_id == Request.id, RequestEvent.at >= window.start)
    existing = (or_(*(scope.condition for scope in scopes)), Request.created_at < window.end)
    columns = (Request.kind, Request.product_ref, Request.capability_ref)
    open_stages = [_before_delivery(scope.stream) for scope in scopes]
    quiet_open = session.execute(
        select(*columns, Request.created_at, Request.flow_item_type, Request.stage)
        .where(*existing, quiet,
               Request.stage.in_(sorted({stage for stages in open_stages for stage in stages})))
        .order_by(Request.id)).all()
    moved = select(Request.id).where(*existing, Request.id.in_(moved_since_start))
    requests = {row.id: row for row in session.execute(
        select(Request.id, *columns, Request.created_at, Request.flow_item_type, Request.stage)
        .where(Request.id.in_(moved)))}
    rows = session.execute(
        select(RequestEvent.request_id, RequestEvent.at, RequestEvent.to_stage, RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(moved), RequestEvent.at < window.end)
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
    members = {request_id: [index for index, scope in enumerate(scopes) if _belongs(scope, row)]
               for request_id, row in requests.items()}
    items: list[list[FlowItem]] = [[] for _ in scopes]
    for request_id, group in groupby(rows, key=lambda row: row[0]):
        request = requests[request_id]
        events = [(as_utc(at), stage, work) for _, at, stage, work in group]
        built: dict[ValueStream, FlowItem] = {}  # scopes with one value stream share the item
        for index in members[request_id]:
            stream = scopes[index].stream
            if stream not in built:
                built[stream] = request_item(stream, request.created_at, request.flow_item_type, events)
            items[index].append(built[stream])
    answers = []
    for index, (scope, total) in enumerate(zip(scopes, _totals(session, scopes, window))):
        stages = open_stages[index]
        quiet = [FlowItem(as_utc(row.created_at), row.flow_item_type,
                          (Pass(row.stage, as_utc(row.created_at), None),), None, True)
                 for row in quiet_open if row.stage in stages and _belongs(scope, row)]
        moved_by_stage = Counter(request.stage for request_id, request in requests.items()
                                 if index in members[request_id])
        baseline = {stage: count - moved_by_stage[stage] for stage, count in total.items()
                    if stage not in stages and count - moved_by_stage[stage]}
        answers.append((quiet + items[index], baseline))
    return answers


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
