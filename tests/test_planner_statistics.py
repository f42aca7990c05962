"""SQLite's planner gets statistics at start-up and every few hours, so it seeks the right index."""

from __future__ import annotations

from sqlalchemy import text

from portal.planner_statistics import StatisticsSchedule, refresh_planner_statistics

IDEAS_TO_TRIAGE = ("SELECT count(*) FROM requests WHERE kind = 'idea' AND stage = 'submitted' "
                   "AND product_ref = 'platformproduct:default/p-3'")


def _fill_requests(engine) -> None:  # noqa: ANN001
    # 2,000 requests over 10 products, a fifth of them ideas: `kind` alone is the least selective filter.
    rows = [{"id": n, "kind": "idea" if n % 5 == 0 else "order", "title": f"r{n}", "requester_ref": "user:default/u",
             "product_ref": f"platformproduct:default/p-{n % 10}", "stage": ("submitted", "delivered", "in-use")[n % 3],
             "flow_item_type": "feature", "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-01 00:00:00",
             "vote_count": 0} for n in range(1, 2001)]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO requests (id, kind, title, requester_ref, product_ref, stage, flow_item_type, created_at, "
            "updated_at, vote_count) VALUES (:id, :kind, :title, :requester_ref, :product_ref, :stage, "
            ":flow_item_type, :created_at, :updated_at, :vote_count)"), rows)


def _plan(engine) -> str:  # noqa: ANN001
    with engine.connect() as connection:
        return " ".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + IDEAS_TO_TRIAGE))


def test_statistics_make_sqlite_seek_the_product_and_stage_index(migrated_engine):
    if migrated_engine.dialect.name != "sqlite":
        assert refresh_planner_statistics(migrated_engine) is False  # PostgreSQL analyzes on its own
        return
    _fill_requests(migrated_engine)
    assert refresh_planner_statistics(migrated_engine) is True
    with migrated_engine.connect() as connection:
        analysed = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert "requests" in analysed
    plan = _plan(migrated_engine)
    # An index that seeks product and stage together (ix_requests_product_stage, or since migration 0035
    # ix_requests_product_kind_stage, which also covers kind), never one on kind alone.
    assert "SEARCH requests USING" in plan and "product_ref=?" in plan and "stage=?" in plan, plan


def test_the_schedule_refreshes_at_first_and_then_only_when_due(migrated_engine):
    now = [1000.0]
    schedule = StatisticsSchedule(migrated_engine, every_seconds=3600, clock=lambda: now[0])
    sqlite = migrated_engine.dialect.name == "sqlite"
    assert schedule.refresh_if_due() is sqlite
    now[0] += 3599
    assert schedule.refresh_if_due() is False
    now[0] += 1
    assert schedule.refresh_if_due() is sqlite
