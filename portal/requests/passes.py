"""Derive each request's passes and flow finish from its stage events, and keep them current.

Whatever writes stage events calls `derive_requests` in the same transaction (the request service, the
history import, the demo seed, the benchmarks' seeding). The value stream a request was derived with is
fingerprinted in `requests.passes_key`; a reader calls `bring_scope_up_to_date` first, which re-derives
the scope's requests that carry no or another fingerprint (a product whose stages changed, requests
written before revision 0036), and the background refresher does the same for every product.
Definitions: docs/metrics.md, "Value stream map" and "Flow metrics"; the model: passes_models.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, delete, insert, or_, select, type_coerce, union_all, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.flow.query import as_utc
from portal.metrics.flow import Pass, work_until  # the flow metrics' definition of work time
from portal.requests.models import Request, RequestEvent
from portal.requests.offerings import load_entity
from portal.requests.passes_models import RequestPass
from portal.requests.stages import WORK, ValueStream, value_stream_for

# Part of every fingerprint: raising it re-derives every request (when what is derived changes).
DERIVATION_VERSION = 1
# Requests derived per statement group: bounds the IN lists and the rows held in memory.
CHUNK = 500


def stream_key(stream: ValueStream) -> str:
    """A fingerprint of what derivation reads from a value stream."""
    shape = [DERIVATION_VERSION, stream.kind, stream.delivery_stage,
             [[stage.id, stage.type, stage.terminal] for stage in stream.stages]]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Move:
    """A stage event as derivation reads it."""

    event_id: int
    at: datetime
    to_stage: str
    work_time_seconds: int | None


@dataclass(frozen=True)
class Derived:
    passes: list[dict]
    finished_at: datetime | None
    work_seconds: float | None


def derive(stream: ValueStream, moves: Sequence[Move]) -> Derived:
    """A request's passes (without its scope columns) and flow finish from its moves in (at, id) order."""
    line = stream.main_line
    position = {stage: index for index, stage in enumerate(line)}
    delivery = line.index(stream.delivery_stage)
    work_stages = frozenset(stage.id for stage in stream.stages if stage.type == WORK)
    passes: list[dict] = []
    for index, move in enumerate(moves):
        after = moves[index + 1] if index + 1 < len(moves) else None
        here = position.get(move.to_stage)
        row = {"event_id": move.event_id, "stage": move.to_stage, "position": here, "entered_at": move.at,
               "left_at": None, "seconds": None, "work_seconds": None, "stage_seconds": None,
               "stage_work_seconds": None, "next_exit_at": None, "forward": False, "returned_at": None,
               "recorded": None}
        if after is not None:
            seconds = (after.at - move.at).total_seconds()
            recorded = after.work_time_seconds
            row.update(left_at=after.at, seconds=seconds, recorded=recorded,
                       work_seconds=(min(float(recorded), seconds) if recorded is not None
                                     else seconds if move.to_stage in work_stages else 0.0))
            there = position.get(after.to_stage)
            row["forward"] = here is not None and there is not None and there > here
            if here is not None:
                row["returned_at"] = next((later.at for later in moves[index + 2:]
                                           if position.get(later.to_stage, len(line)) <= here), None)
        passes.append(row)
    _stage_totals(passes)
    finished_at = next((move.at for move in moves if position.get(move.to_stage, -1) >= delivery), None)
    work = None
    if finished_at is not None:
        timeline = [Pass(row["stage"], row["entered_at"], row["left_at"], row["recorded"]) for row in passes]
        work = work_until(timeline, finished_at, work_stages)
    for row in passes:
        del row["recorded"]
    return Derived(passes, finished_at, work)


def _stage_totals(passes: list[dict]) -> None:
    """Running totals per stage over the ended passes, and each ended pass's next exit from its stage."""
    seconds: dict[str, float] = {}
    work: dict[str, float] = {}
    last_exit: dict[str, dict] = {}
    for row in passes:
        if row["left_at"] is None:
            continue
        stage = row["stage"]
        seconds[stage] = seconds.get(stage, 0.0) + row["seconds"]
        work[stage] = work.get(stage, 0.0) + row["work_seconds"]
        row["stage_seconds"], row["stage_work_seconds"] = seconds[stage], work[stage]
        if stage in last_exit:
            last_exit[stage]["next_exit_at"] = row["left_at"]
        last_exit[stage] = row


StreamOf = Callable[[str | None, str], ValueStream]


def catalog_streams(session: Session) -> StreamOf:
    """The value stream of (product_ref, kind) as the catalog has it now, each product looked up once."""
    products: dict[str | None, dict | None] = {}

    def stream_of(product_ref: str | None, kind: str) -> ValueStream:
        if product_ref not in products:
            products[product_ref] = load_entity(session, product_ref) if product_ref else None
        return value_stream_for(kind, products[product_ref])

    return stream_of


def _moves(session: Session, request_ids: Sequence[int]) -> dict[int, list[Move]]:
    found: dict[int, list[Move]] = {request_id: [] for request_id in request_ids}
    rows = session.execute(
        select(RequestEvent.request_id, RequestEvent.id, type_coerce(RequestEvent.at, DateTime(timezone=True)),
               RequestEvent.to_stage, RequestEvent.work_time_seconds)
        .where(RequestEvent.request_id.in_(request_ids))
        .order_by(RequestEvent.request_id, RequestEvent.at, RequestEvent.id))
    for request_id, event_id, at, stage, work in rows:
        found[request_id].append(Move(event_id, as_utc(at), stage, work))
    return found


def derive_requests(session: Session, request_ids: Iterable[int], stream_of: StreamOf | None = None) -> int:
    """Re-derive the passes and flow finish of these requests from their events, in the caller's
    transaction, each with its product's value stream; returns the pass rows written."""
    stream_of = stream_of or catalog_streams(session)
    ids = sorted(set(request_ids))
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        requests = session.execute(select(Request.id, Request.kind, Request.product_ref, Request.capability_ref)
                                   .where(Request.id.in_(chunk))).all()
        moves = _moves(session, [row.id for row in requests])
        rows, columns = [], []
        for request in requests:
            stream = stream_of(request.product_ref, request.kind)
            derived = derive(stream, moves[request.id])
            scope = {"request_id": request.id, "kind": request.kind, "product_ref": request.product_ref,
                     "capability_ref": request.capability_ref}
            rows += [{**scope, **one} for one in derived.passes]
            columns.append({"row_id": request.id, "key": stream_key(stream), "finished": derived.finished_at,
                            "work": derived.work_seconds})
        session.execute(delete(RequestPass).where(RequestPass.request_id.in_(chunk)))
        if rows:
            session.execute(insert(RequestPass.__table__), rows)  # one executemany (the ORM splits by NULLs)
        if columns:
            table = Request.__table__
            session.execute(update(table).where(table.c.id == bindparam("row_id"))
                            .values(passes_key=bindparam("key"), flow_finished_at=bindparam("finished"),
                                    flow_work_seconds=bindparam("work")), columns)
        written += len(rows)
    _expire_loaded(session, ids)
    return written


def _expire_loaded(session: Session, ids: list[int]) -> None:
    """Requests the session holds reload the derived columns written past the ORM."""
    wanted = set(ids)
    for item in list(session.identity_map.values()):
        if isinstance(item, Request) and item.id in wanted:
            session.expire(item, ["passes_key", "flow_finished_at", "flow_work_seconds"])


def _stale_ids(session: Session, product_ref: str | None, kind: str, key: str, limit: int | None) -> list[int]:
    """The product's requests of `kind` derived with no or another value stream. Three seeks of
    ix_requests_passes_key (an OR of them would scan the product's requests)."""
    scope = (Request.kind == kind,
             Request.product_ref == product_ref if product_ref is not None else Request.product_ref.is_(None))
    parts = [select(Request.id).where(*scope, condition)
             for condition in (Request.passes_key.is_(None), Request.passes_key < key, Request.passes_key > key)]
    query = union_all(*parts).order_by("id")
    return list(session.execute(query if limit is None else query.limit(limit)).scalars())


def bring_scope_up_to_date(session: Session, product_ref: str | None, kind: str, stream: ValueStream,
                           limit: int | None = None) -> int:
    """Re-derive the requests of a product (its ideas, or its capabilities' orders) whose derivation is
    not that of `stream` (at most `limit` of them), in the caller's transaction; returns the requests
    derived (usually none: three empty index seeks).

    Each chunk is claimed by setting its fingerprint first (`UPDATE … RETURNING`), so two readers of one
    scope on PostgreSQL do not both derive a request: the second waits for the first's row locks and then
    finds nothing left to claim."""
    key = stream_key(stream)
    stale = _stale_ids(session, product_ref, kind, key, limit)
    done = 0
    table = Request.__table__
    for start in range(0, len(stale), CHUNK):
        claimed = list(session.execute(
            update(table).where(table.c.id.in_(stale[start:start + CHUNK]),
                                or_(table.c.passes_key.is_(None), table.c.passes_key != key))
            .values(passes_key=key).returning(table.c.id)).scalars())
        if claimed:
            derive_requests(session, claimed, lambda _product, _kind: stream)
            done += len(claimed)
    return done


def request_scopes(session: Session) -> list[tuple[str | None, str]]:
    """(product_ref, kind) of every scope that has requests."""
    return [(product_ref, kind) for product_ref, kind in session.execute(
        select(Request.product_ref, Request.kind).distinct().order_by(Request.product_ref, Request.kind))]


def refresh_request_passes(engine: Engine) -> int:
    """Bring every scope up to date with its product's value stream now, a chunk per transaction (the
    background refresher's part for requests); returns the requests derived."""
    with Session(engine) as session:
        scopes = request_scopes(session)
    done = 0
    for product_ref, kind in scopes:
        while True:
            with Session(engine) as session:
                stream = catalog_streams(session)(product_ref, kind)
                derived = bring_scope_up_to_date(session, product_ref, kind, stream, limit=CHUNK)
                session.commit()
            done += derived
            if derived < CHUNK:
                break
    return done


def rebuild_request_passes(engine: Engine, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    """Re-derive every request (`flowport metrics rebuild`, and the benchmarks after seeding); returns the
    pass rows written."""
    with Session(engine) as session:
        ids = list(session.execute(select(Request.id).order_by(Request.id)).scalars())
    written = 0
    progress(0, len(ids))
    for start in range(0, len(ids), CHUNK * 4):
        with Session(engine) as session:
            written += derive_requests(session, ids[start:start + CHUNK * 4])
            session.commit()
        progress(min(start + CHUNK * 4, len(ids)), len(ids))
    return written
