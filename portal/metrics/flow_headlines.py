"""The flow figures a portfolio row shows (flow time, flow efficiency, load), for many scopes at once,
without building any flow item: the same numbers as flow_requests.scoped_flow_metrics gives for them.

Flow time and efficiency only look at the items finished in the window, and load only counts the items
in progress at its end. A request's finish (its first arrival at delivery or a later main-line stage)
and its work time up to it never change once it has finished, so the request writers keep both on the
request (portal/requests/passes.py): the finished items of a window are one index range. For load, SQL
gives the stage at the window's end of each request that moved in it; the others are counted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DateTime, exists, func, or_, select, type_coerce
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow_requests import _before_delivery, _Membership, _stream_keys
from portal.metrics.flow_scope import RequestScope, moved_in
from portal.metrics.stats import percentile
from portal.metrics.window import Window
from portal.requests.models import Request, RequestEvent


def _last_before(window: Window, column):  # noqa: ANN001, ANN202 - a column of the request's last event before the end
    return select(column).where(RequestEvent.request_id == Request.id, RequestEvent.at < window.end) \
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()).limit(1).scalar_subquery()


def _finished_figures(samples: list[tuple[float, float]]) -> dict:
    """flowTime and efficiency (metrics/flow.py) from (flow seconds, work seconds) in request id order."""
    flow = [seconds for seconds, _ in samples]
    total_flow = sum(flow)
    total_work = sum(work for _, work in samples)
    return {"flowTime": {"samples": len(flow), "p50": percentile(flow, 0.5), "p85": percentile(flow, 0.85),
                         "p95": percentile(flow, 0.95)},
            "efficiency": {"samples": len(flow), "workTime": total_work, "flowTime": total_flow,
                           "ratio": total_work / total_flow if total_flow > 0 else None}}


def scoped_flow_headlines(session: Session, scopes: Sequence[RequestScope], window: Window) -> list[dict]:
    """Per scope: `flowTime` and `efficiency` as flow_metrics answers them, and `load` with `wip` only."""
    if not scopes:
        return []
    for scope in scopes:
        scope.bring_up_to_date(session)
    keys = _stream_keys(scopes)
    streams = {key: scope.stream for key, scope in zip(keys, scopes)}
    open_stages = {key: _before_delivery(stream) for key, stream in streams.items()}
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

    # Moved since the window's start (inside it, or only after a past one): in progress by their stage at
    # its end, that of their last move before it.
    moved = select(*scope_columns, _last_before(window, RequestEvent.to_stage).label("stage_at_end")) \
        .where(*existing, moved_in(window, or_after=True)).subquery()
    for row in session.execute(select(moved, func.count().label("requests")).group_by(*moved.c)):
        for index in membership.of(row):
            wip[index] += row.requests if row.stage_at_end in open_stages[keys[index]] else 0

    # Finished inside the window: the finish and work time the writers keep on each request.
    samples: list[list[tuple[float, float]]] = [[] for _ in scopes]
    finished = session.execute(
        select(*scope_columns, type_coerce(Request.created_at, DateTime(timezone=True)).label("created"),
               type_coerce(Request.flow_finished_at, DateTime(timezone=True)).label("finished"),
               Request.flow_work_seconds)
        .where(or_(*(scope.condition for scope in scopes)), Request.flow_finished_at >= window.start,
               Request.flow_finished_at < window.end)
        .order_by(Request.id))
    for row in finished:
        seconds = (as_utc(row.finished) - as_utc(row.created)).total_seconds()
        for index in membership.of(row):
            samples[index].append((seconds, row.flow_work_seconds))
    answers = [{**_finished_figures(samples[index]), "load": {"wip": wip[index]}} for index in range(len(scopes))]
    return answers
