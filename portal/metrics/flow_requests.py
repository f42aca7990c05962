"""Requests as flow items, read from what the request writers derive (portal/requests/passes.py): their
stages as states, the first arrival at delivery as the finish, terminal stages as endings.

No timeline is read. A request finished in the window is a row of `requests` (its finish and its work
time up to it never change once it has finished); one in progress at the window's end is the pass that
covers the end, in a stage before delivery; the cumulative flow diagram counts passes per stage and day
in SQL. Several scopes (a product and its capabilities, every product of the portfolio) are read
together. Definitions: docs/metrics.md, "Flow metrics"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, DateTime, String, Time, case, cast, func, or_, select, type_coerce
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow import (
    FlowItem,
    Pass,
    days_of,
    efficiency_of,
    flow_diagram,
    flow_distribution,
    flow_load,
    flow_time_of,
    velocity,
)
from portal.metrics.flow_scope import RequestScope
from portal.metrics.window import Window
from portal.requests.models import Request
from portal.requests.passes_models import RequestPass
from portal.requests.stages import ValueStream


def open_stages(stream: ValueStream) -> list[str]:
    """The main-line stages before delivery: a request there is in progress."""
    line = stream.main_line
    return list(line[:line.index(stream.delivery_stage)])


class _Membership:
    """Python's reading of the scopes' conditions, for rows read with the union of them: which scopes
    (by index) a row with kind, product_ref and capability_ref belongs to."""

    def __init__(self, scopes: Sequence[RequestScope]) -> None:
        self.by_key: dict[tuple[str, str, str], list[int]] = {}
        for index, scope in enumerate(scopes):
            key = ("capability", scope.kind, scope.capability_ref) if scope.capability_ref is not None \
                else ("product", scope.kind, scope.product_ref)
            self.by_key.setdefault(key, []).append(index)

    def of(self, row) -> list[int]:  # noqa: ANN001 - a row with the scope columns
        return self.by_key.get(("product", row.kind, row.product_ref), []) + \
            self.by_key.get(("capability", row.kind, row.capability_ref), [])


@dataclass
class ScopeItems:
    """One scope's requests that the window's figures need, as flow items in the order the figures sum
    them (those quiet since before the window first, then by id), with the work time of the finished ones."""

    items: list[FlowItem]
    work: dict[int, float]  # id(item) → work time up to its finish, for items finished in the window


def _finished(session: Session, scopes: Sequence[RequestScope], window: Window) -> list:
    return session.execute(
        select(Request.id, Request.kind, Request.product_ref, Request.capability_ref, Request.flow_item_type,
               type_coerce(Request.created_at, DateTime(timezone=True)).label("created"),
               type_coerce(Request.flow_finished_at, DateTime(timezone=True)).label("finished"),
               Request.flow_work_seconds)
        .where(or_(*(scope.condition for scope in scopes)), Request.flow_finished_at >= window.start,
               Request.flow_finished_at < window.end)).all()


def _in_progress(session: Session, scopes: Sequence[RequestScope], window: Window) -> list:
    """The pass covering the window's end of each request then in a stage before delivery."""
    stages = sorted({stage for scope in scopes for stage in open_stages(scope.stream)})
    return session.execute(
        select(RequestPass.request_id.label("id"), RequestPass.kind, RequestPass.product_ref,
               RequestPass.capability_ref, RequestPass.stage,
               type_coerce(RequestPass.entered_at, DateTime(timezone=True)).label("entered"),
               RequestPass.left_at.is_(None).label("open"), Request.flow_item_type,
               type_coerce(Request.created_at, DateTime(timezone=True)).label("created"))
        .join(Request, Request.id == RequestPass.request_id)
        .where(or_(*(scope.pass_condition for scope in scopes)), RequestPass.stage.in_(stages),
               RequestPass.entered_at < window.end,
               or_(RequestPass.left_at.is_(None), RequestPass.left_at >= window.end),
               Request.created_at < window.end)).all()


def scoped_items(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[ScopeItems]:
    """For each scope: the requests finished in the window or in progress at its end, as flow items
    (an in-progress one has the pass it is in; a finished one no pass: no figure here reads it)."""
    if not scopes:
        return []
    for scope in scopes:
        scope.bring_up_to_date(session)
    membership = _Membership(scopes)
    finished = {row.id: row for row in _finished(session, scopes, window)}
    ongoing = {row.id: row for row in _in_progress(session, scopes, window)}
    open_by_scope = [set(open_stages(scope.stream)) for scope in scopes]
    chosen: list[dict[int, tuple[bool, object | None, object | None]]] = [{} for _ in scopes]
    for row in finished.values():
        for index in membership.of(row):
            chosen[index][row.id] = (False, row, None)
    for row in ongoing.values():
        for index in membership.of(row):
            if row.stage in open_by_scope[index]:
                # Quiet: in this pass since before the window and never moved again.
                quiet = bool(row.open) and as_utc(row.entered) < window.start
                chosen[index][row.id] = (quiet, chosen[index].get(row.id, (False, None, None))[1], row)
    answer = []
    for found in chosen:
        items, work = [], {}
        for request_id in sorted(found, key=lambda key: (not found[key][0], key)):
            _, done, current = found[request_id]
            source = done or current
            passes = (Pass(current.stage, as_utc(current.entered), None),) if current is not None else ()
            item = FlowItem(as_utc(source.created), source.flow_item_type, passes,
                            as_utc(done.finished) if done is not None else None, current is not None)
            if done is not None:
                work[id(item)] = done.flow_work_seconds
            items.append(item)
        answer.append(ScopeItems(items, work))
    return answer


def _efficiency(found: ScopeItems, window: Window) -> dict:
    done = [item for item in found.items if window.contains(item.finished_at)]
    return efficiency_of([(item.finished_at - item.created_at).total_seconds() for item in done],
                         [found.work[id(item)] for item in done])


def _flow_time(found: ScopeItems, window: Window) -> dict:
    return flow_time_of([(item.finished_at - item.created_at).total_seconds() for item in found.items
                         if window.contains(item.finished_at)])


def flow_figures(found: ScopeItems, window: Window) -> dict:
    """Flow time, efficiency, load (in progress) and velocity (finished): a capability's row on its
    product's page."""
    return {"flowTime": _flow_time(found, window), "efficiency": _efficiency(found, window),
            "load": {"wip": sum(1 for item in found.items if item.in_progress)},
            "velocity": {"finished": sum(1 for item in found.items if window.contains(item.finished_at))}}


def scoped_flow_headlines(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Per scope: `flowTime` and `efficiency` as the flow metrics answer them, and `load` with `wip` only
    (a portfolio row)."""
    return [{"flowTime": _flow_time(found, window), "efficiency": _efficiency(found, window),
             "load": {"wip": sum(1 for item in found.items if item.in_progress)}}
            for found in scoped_items(session, scopes, window)]


def _day_and_side(column, window: Window, dialect: str):  # noqa: ANN001, ANN202 - SQL expressions
    """A time's UTC date, and whether its time of day is at or after the window start's: with them, how
    many of the window's day ends lie at or before it is exact date arithmetic (no floating days)."""
    start_time = as_utc(window.start).time()
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return cast(utc, Date), cast(utc, Time) >= start_time
    # SQLite keeps times as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC), which compares as it sorts.
    text_column = type_coerce(column, String)
    return (func.substr(text_column, 1, 10, type_=String),
            func.substr(text_column, 12, type_=String) >= start_time.strftime("%H:%M:%S.%f"))


def _day_index(day: date | str, late: bool, window: Window, days: int) -> int:
    """bisect_right of the window's day ends at a time inside it: whole days since its start, at most the
    last day's (whose end is the window's end)."""
    whole = ((date.fromisoformat(day) if isinstance(day, str) else day) - as_utc(window.start).date()).days
    return min(whole - (0 if late else 1), days - 1)


def request_flow_diagram(session: Session, scope: RequestScope, window: Window) -> dict:
    """The cumulative flow diagram of a scope from its passes: each pass counts in its stage at the day
    ends after it starts up to the one at or before it ends, added up per stage and day in SQL."""
    states = [stage.id for stage in scope.stream.stages]
    days = len(days_of(window)[1])
    changes = {state: [0] * (days + 1) for state in states}
    dialect = session.get_bind().dialect.name
    covering = (scope.pass_condition, RequestPass.stage.in_(states), RequestPass.entered_at < window.end)

    def grouped(time_column, *conditions):  # noqa: ANN001, ANN202 - (stage, before, day, late, count) rows
        # Grouped over a subquery: PostgreSQL cannot tell a selected expression with bound values from
        # the same expression in GROUP BY.
        before = time_column < window.start
        day, late = _day_and_side(time_column, window, dialect)
        inner = select(RequestPass.stage, before.label("before"), case((before, None), else_=day).label("day"),
                       case((before, None), else_=late).label("late")).where(*covering, *conditions).subquery()
        return session.execute(select(*inner.c, func.count()).group_by(*inner.c))

    # Where each pass that is in a stage at some day end starts counting (day 0 if it began before the
    # window), and where those that end inside the window stop.
    for later in (RequestPass.left_at.is_(None), RequestPass.left_at >= window.start):
        for stage, began_before, day, late, count in grouped(RequestPass.entered_at, later):
            changes[stage][0 if began_before else _day_index(day, late, window, days)] += count
    inside = (RequestPass.left_at >= window.start, RequestPass.left_at < window.end)
    for stage, _, day, late, count in grouped(RequestPass.left_at, *inside):
        changes[stage][_day_index(day, late, window, days)] -= count
    return flow_diagram(window, states, changes)


def scope_flow_metrics(session: Session, scope: RequestScope, found: ScopeItems, window: Window) -> dict:
    """Every flow metric of a scope over the window, in the API's shape."""
    return {
        "velocity": velocity(found.items, window),
        "flowTime": _flow_time(found, window),
        "efficiency": _efficiency(found, window),
        "load": flow_load(found.items, window),
        "distribution": flow_distribution(found.items, window),
        "cumulativeFlow": request_flow_diagram(session, scope, window),
    }


def scoped_flow_metrics(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Every flow metric of each scope over the window, reading the requests of all of them once."""
    return [scope_flow_metrics(session, scope, found, window)
            for scope, found in zip(scopes, scoped_items(session, scopes, window))]


def request_flow_metrics(session: Session, scope: RequestScope, window: Window) -> dict:
    return scoped_flow_metrics(session, [scope], window)[0]
