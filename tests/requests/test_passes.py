"""Request passes (portal/requests/passes.py): derived by hand on one timeline, kept by the writers, re-derived
when a product's value stream changes, and claimed once when two readers find the same stale requests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from portal.metrics.flow_scope import request_scope
from portal.metrics.value_stream_query import scope_value_stream
from portal.metrics.window import Window
from portal.requests import service
from portal.requests.models import Request, RequestEvent
from portal.requests.passes import Move, bring_scope_up_to_date, derive, derive_requests, stream_key
from portal.requests.passes_models import RequestPass
from portal.requests.stages import DEFAULT_STREAMS
from tests.metrics.flow_factories import make_request
from tests.metrics.value_stream_oracle import StageEvent, value_stream_map
from tests.requests.factories import product, seed_request_catalog, store

ORDERS = DEFAULT_STREAMS["order"]
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def hour(count: float) -> datetime:
    return T0 + timedelta(hours=count)


def test_one_timeline_by_hand() -> None:
    # submitted 0–1 h, fulfilling 1–3 h (1 800 s of work recorded), back to awaiting-approval 3–4 h,
    # fulfilling 4–6 h (none recorded: a work stage counts whole), delivered at 6 h, failed at 7 h.
    moves = [Move(1, hour(0), "submitted", None), Move(2, hour(1), "fulfilling", None),
             Move(3, hour(3), "awaiting-approval", 1800), Move(4, hour(4), "fulfilling", None),
             Move(5, hour(6), "delivered", None), Move(6, hour(7), "failed", None)]
    derived = derive(ORDERS, moves)
    rows = {row["event_id"]: row for row in derived.passes}
    assert [rows[n]["position"] for n in range(1, 7)] == [0, 2, 1, 2, 3, None]
    assert rows[2]["seconds"] == 7200 and rows[2]["work_seconds"] == 1800
    assert rows[4]["work_seconds"] == 7200  # fulfilling is a work stage
    assert rows[3]["work_seconds"] == 0  # awaiting-approval is a wait stage
    # Running totals per stage, and the next exit from the same stage.
    assert (rows[2]["stage_seconds"], rows[2]["stage_work_seconds"]) == (7200, 1800)
    assert (rows[4]["stage_seconds"], rows[4]["stage_work_seconds"]) == (14400, 9000)
    assert rows[2]["next_exit_at"] == hour(6) and rows[4]["next_exit_at"] is None
    # Forward exits, and the first return to the stage or before after the exit.
    assert [rows[n]["forward"] for n in range(1, 7)] == [True, False, True, True, False, False]
    assert rows[1]["returned_at"] is None  # never back to submitted
    assert rows[2]["returned_at"] == hour(4)  # from awaiting-approval back into fulfilling
    assert rows[3]["returned_at"] is None
    assert rows[5]["returned_at"] is None  # failed is terminal: not a main-line return
    assert rows[6]["left_at"] is None and rows[6]["seconds"] is None
    # The flow finish is the first arrival at delivery; work until then: 1 800 s + 7 200 s.
    assert derived.finished_at == hour(6) and derived.work_seconds == 9000


def test_an_unfinished_request_has_no_finish() -> None:
    derived = derive(ORDERS, [Move(1, hour(0), "submitted", None), Move(2, hour(2), "fulfilling", 60)])
    assert derived.finished_at is None and derived.work_seconds is None
    assert derived.passes[0]["work_seconds"] == 60  # recorded on the event that ends the pass


def _stored(session: Session, request_id: int) -> list[dict]:
    rows = session.execute(select(RequestPass).where(RequestPass.request_id == request_id)
                           .order_by(RequestPass.event_id)).scalars()
    return [{column: getattr(row, column) for column in ("event_id", "stage", "position", "left_at", "stage_seconds",
                                                          "stage_work_seconds", "next_exit_at", "forward", "returned_at")}
            for row in rows]


def test_the_request_service_keeps_them_as_it_moves_an_order(session) -> None:  # noqa: ANN001
    seed_request_catalog(session)
    order = service.create_order(session, capability="capability:default/feature-flags",
                                 requester="user:default/rui.requester")
    for stage in ("fulfilling", "awaiting-approval", "fulfilling", "delivered"):
        service.transition(session, order, to=stage, actor="user:default/olga.owner", work_time_seconds=5)
    session.commit()
    stored = session.get(Request, order.id)
    assert stored.passes_key == stream_key(ORDERS)
    assert stored.flow_finished_at is not None and stored.flow_work_seconds is not None
    kept = _stored(session, order.id)
    assert len(kept) == 5 and kept[-1]["stage"] == "delivered" and kept[-1]["left_at"] is None
    assert [row["forward"] for row in kept] == [True, False, True, True, False]
    # Derived again from the events, nothing changes: what the writer kept is the derivation.
    derive_requests(session, [order.id])
    assert _stored(session, order.id) == kept
    scope = request_scope(session, "product", "delivery-platform", None)
    assert bring_scope_up_to_date(session, scope.product_ref, scope.kind, scope.stream) == 0


def test_requests_written_past_the_writers_are_derived_on_first_read(session) -> None:  # noqa: ANN001
    seed_request_catalog(session)
    row = make_request(session, [(hour(0), "submitted"), (hour(1), "fulfilling"), (hour(3), "delivered")])
    assert session.get(Request, row.id).passes_key is None
    scope = request_scope(session, "capability", "ci-pipeline", None)
    answer = scope_value_stream(session, scope, Window(hour(0), hour(10)))
    assert session.get(Request, row.id).passes_key == stream_key(ORDERS)
    assert [stage["items"] for stage in answer["stages"]][:3] == [1, 0, 1]


def test_a_changed_value_stream_re_derives_the_products_requests(session) -> None:  # noqa: ANN001
    seed_request_catalog(session)
    timeline = [(hour(0), "submitted"), (hour(1), "awaiting-approval"), (hour(2), "fulfilling"),
                (hour(5), "delivered"), (hour(6), "in-use")]
    make_request(session, timeline)
    window = Window(hour(0), hour(10))
    before = scope_value_stream(session, request_scope(session, "product", "delivery-platform", None), window)
    assert before["stages"][1] == {"id": "awaiting-approval", "type": "wait", "items": 1, "leadTime": 3600,
                                   "processTime": 0, "percentCompleteAccurate": 1.0}
    # The owners make approval a work stage and drop nothing else: the passes were derived with the old
    # stream, so the next read derives them again and the map follows the new one.
    stages = [{"id": stage.id, "type": "work" if stage.id in ("awaiting-approval", "fulfilling") else stage.type,
               "terminal": stage.terminal} for stage in ORDERS.stages]
    store(session, [product("delivery-platform", valueStream={"orders": {"stages": stages}})])
    scope = request_scope(session, "product", "delivery-platform", None)
    assert stream_key(scope.stream) != stream_key(ORDERS)
    after = scope_value_stream(session, scope, window)
    assert after["stages"][1]["processTime"] == 3600
    expected = value_stream_map(scope.stream, [[StageEvent(at, stage) for at, stage in timeline]], window)
    assert after == expected
    assert bring_scope_up_to_date(session, scope.product_ref, scope.kind, scope.stream) == 0


def test_two_readers_derive_a_stale_request_once(engine, session) -> None:  # noqa: ANN001
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a second reader cannot start deriving before the first commits")
    seed_request_catalog(session)
    ids = [make_request(session, [(hour(n), "submitted"), (hour(n + 1), "fulfilling")]).id for n in range(3)]
    session.commit()
    scope = request_scope(session, "product", "delivery-platform", None)
    first = Session(engine)
    assert bring_scope_up_to_date(first, scope.product_ref, scope.kind, scope.stream) == 3  # not committed yet
    found: dict[str, int] = {}

    def second_reader() -> None:
        with Session(engine) as second:
            found["derived"] = bring_scope_up_to_date(second, scope.product_ref, scope.kind, scope.stream)
            found["passes"] = len(second.execute(select(RequestPass.event_id)
                                                 .where(RequestPass.request_id.in_(ids))).all())
            second.commit()

    thread = threading.Thread(target=second_reader)
    thread.start()
    try:
        # The second reader's claim waits for the first's row locks (seen in pg_stat_activity, not by timing).
        with engine.connect() as watcher:
            for _ in range(500):
                # This database's sessions only: the server is shared with other test runs.
                waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                               "current_database() AND wait_event_type = 'Lock'")).scalar_one()
                if waiting:
                    break
                threading.Event().wait(0.01)
        assert waiting
        first.commit()
    finally:
        first.close()
        thread.join(timeout=30)
    assert found == {"derived": 0, "passes": 6}
    events = session.execute(select(RequestEvent.id).where(RequestEvent.request_id.in_(ids))).all()
    assert len(events) == 6


def test_metrics_rebuild_derives_every_request(tmp_path) -> None:
    from portal.db import build_engine
    from tests.test_cli import run_cli

    env = {"FLOWPORT_DATA_DIR": str(tmp_path / "data")}
    assert run_cli(["migrate"], env).exit_code == 0
    engine = build_engine(f"sqlite:///{tmp_path / 'data' / 'flowport.db'}")
    try:
        with Session(engine) as session:
            row = make_request(session, [(hour(0), "submitted"), (hour(2), "fulfilling"), (hour(3), "delivered")])
            session.commit()
            request_id = row.id
        result = run_cli(["metrics", "rebuild"], env)
        assert result.exit_code == 0, result.output
        assert "and 3 request passes" in result.stdout
        with Session(engine) as session:
            assert session.get(Request, request_id).flow_finished_at == hour(3)
            assert len(_stored(session, request_id)) == 3
    finally:
        engine.dispose()
