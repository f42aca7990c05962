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
from datetime import date

from sqlalchemy import Date, DateTime, String, Time, and_, case, cast, func, or_, select, type_coerce
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
class ScopeRequests:
    """One scope's requests that the window's figures need: those finished in it (id, created, finished,
    work time up to the finish, type) by id, and those in progress at its end (id, quiet since before the
    window, created, stage, in it since, type)."""

    finished: list[tuple]
    ongoing: list[tuple]

    def flow_seconds(self) -> list[float]:
        return [(finished - created).total_seconds() for _, created, finished, _, _ in self.finished]

    def items(self) -> list[FlowItem]:
        """As flow items, in the order the figures sum them: the quiet ones first, then by id (an item in
        progress has the pass it is in; one only finished no pass: no figure reads it)."""
        finished = {row[0]: row for row in self.finished}
        ongoing = {row[0]: row for row in self.ongoing}
        quiet = {row[0] for row in self.ongoing if row[1]}
        answer = []
        for request_id in sorted(finished.keys() | ongoing.keys(), key=lambda key: (key not in quiet, key)):
            done, current = finished.get(request_id), ongoing.get(request_id)
            created, flow_type = (done[1], done[4]) if done else (current[2], current[5])
            passes = (Pass(current[3], current[4], None),) if current else ()
            answer.append(FlowItem(created, flow_type, passes, done[2] if done else None, current is not None))
        return answer


def _covering(model, scopes: Sequence[RequestScope]):  # noqa: ANN001, ANN202 - a table and a SQL condition
    """Rows of `model` (requests or their passes) that cover the scopes: by product and kind, one IN list
    per kind (an OR per scope makes PostgreSQL scan them all); a capability's orders are read through its
    product's (the rows say which capability they are for), unless it has none. The caller sorts rows into
    scopes with _Membership."""
    conditions = []
    for kind in sorted({scope.kind for scope in scopes}):
        products = sorted({scope.product_ref for scope in scopes if scope.kind == kind and scope.product_ref is not None})
        if products:
            conditions.append(and_(model.product_ref.in_(products), model.kind == kind))
        alone = sorted({scope.capability_ref for scope in scopes if scope.kind == kind and scope.product_ref is None
                        and scope.capability_ref is not None})
        if alone:
            conditions.append(and_(model.capability_ref.in_(alone), model.kind == kind))
    return or_(*conditions)


def _finished(session: Session, scopes: Sequence[RequestScope], window: Window) -> list:
    return session.execute(
        select(Request.id, Request.kind, Request.product_ref, Request.capability_ref, Request.flow_item_type,
               type_coerce(Request.created_at, DateTime(timezone=True)).label("created"),
               type_coerce(Request.flow_finished_at, DateTime(timezone=True)).label("finished"),
               Request.flow_work_seconds)
        .where(_covering(Request, scopes), Request.flow_finished_at >= window.start,
               Request.flow_finished_at < window.end)).all()


def _in_progress(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[tuple]:
    """(pass row, request row) for the pass covering the window's end of each request then in a stage before
    delivery: one still open or one left at or after the end (each a seek of the passes index per stage),
    then their requests by id (a join makes PostgreSQL hash every request)."""
    stages = sorted({stage for scope in scopes for stage in open_stages(scope.stream)})
    covering = (_covering(RequestPass, scopes), RequestPass.stage.in_(stages), RequestPass.entered_at < window.end)
    passes = [row for still in (RequestPass.left_at.is_(None), RequestPass.left_at >= window.end)
              for row in session.execute(
                  select(RequestPass.request_id.label("id"), RequestPass.kind, RequestPass.product_ref,
                         RequestPass.capability_ref, RequestPass.stage,
                         type_coerce(RequestPass.entered_at, DateTime(timezone=True)).label("entered"),
                         RequestPass.left_at.is_(None).label("open")).where(*covering, still))]
    requests = {}
    ids = sorted({row.id for row in passes})
    for start in range(0, len(ids), 1000):
        requests.update((row.id, row) for row in session.execute(
            select(Request.id, Request.flow_item_type, type_coerce(Request.created_at, DateTime(timezone=True))
                   .label("created")).where(Request.id.in_(ids[start:start + 1000]), Request.created_at < window.end)))
    return [(row, requests[row.id]) for row in passes if row.id in requests]


def scoped_requests(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[ScopeRequests]:
    """For each scope: its requests finished in the window and those in progress at its end."""
    if not scopes:
        return []
    for scope in scopes:
        scope.bring_up_to_date(session)
    membership = _Membership(scopes)
    found = [ScopeRequests([], []) for _ in scopes]
    for row in sorted(_finished(session, scopes, window), key=lambda row: row.id):
        entry = (row.id, as_utc(row.created), as_utc(row.finished), row.flow_work_seconds, row.flow_item_type)
        for index in membership.of(row):
            found[index].finished.append(entry)
    open_by_scope = [set(open_stages(scope.stream)) for scope in scopes]
    for row, request in _in_progress(session, scopes, window):
        entered = as_utc(row.entered)
        # Quiet: in this pass since before the window and never moved again.
        entry = (row.id, bool(row.open) and entered < window.start, as_utc(request.created), row.stage, entered,
                 request.flow_item_type)
        for index in membership.of(row):
            if row.stage in open_by_scope[index]:
                found[index].ongoing.append(entry)
    return found


def _efficiency(found: ScopeRequests) -> dict:
    return efficiency_of(found.flow_seconds(), [row[3] for row in found.finished])


def flow_figures(found: ScopeRequests) -> dict:
    """Flow time, efficiency, load (in progress) and velocity (finished): a capability's row on its
    product's page."""
    return {"flowTime": flow_time_of(found.flow_seconds()), "efficiency": _efficiency(found),
            "load": {"wip": len(found.ongoing)}, "velocity": {"finished": len(found.finished)}}


def scoped_flow_headlines(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Per scope: `flowTime` and `efficiency` as the flow metrics answer them, and `load` with `wip` only
    (a portfolio row)."""
    return [{"flowTime": flow_time_of(found.flow_seconds()), "efficiency": _efficiency(found),
             "load": {"wip": len(found.ongoing)}} for found in scoped_requests(session, scopes, window)]


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


def scope_flow_metrics(session: Session, scope: RequestScope, found: ScopeRequests, window: Window) -> dict:
    """Every flow metric of a scope over the window, in the API's shape."""
    items = found.items()
    return {
        "velocity": velocity(items, window),
        "flowTime": flow_time_of(found.flow_seconds()),
        "efficiency": _efficiency(found),
        "load": flow_load(items, window),
        "distribution": flow_distribution(items, window),
        "cumulativeFlow": request_flow_diagram(session, scope, window),
    }


def scoped_flow_metrics(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Every flow metric of each scope over the window, reading the requests of all of them once."""
    return [scope_flow_metrics(session, scope, found, window)
            for scope, found in zip(scopes, scoped_requests(session, scopes, window))]


def request_flow_metrics(session: Session, scope: RequestScope, window: Window) -> dict:
    return scoped_flow_metrics(session, [scope], window)[0]
