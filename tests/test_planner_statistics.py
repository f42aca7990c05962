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


def _fill_orders(engine) -> None:  # noqa: ANN001
    # 5,000 orders of 20 capabilities, half of them delivered and a fifth of those with confirmed value.
    rows = [{"id": 10_000 + n, "kind": "order", "title": f"o{n}", "requester_ref": f"user:default/u{n % 300}",
             "capability_ref": f"capability:default/c-{n % 20}", "product_ref": f"platformproduct:default/p-{n % 4}",
             "stage": ("fulfilling", "delivered", "in-use", "value-confirmed", "cancelled")[n % 5],
             "flow_item_type": "feature", "created_at": "2026-01-01 00:00:00.000000",
             "updated_at": "2026-01-02 00:00:00.000000", "vote_count": 0,
             "delivered_at": None if n % 2 else f"2026-01-{1 + n % 28:02d} 00:00:00.000000",
             "value_confirmed_at": f"2026-02-{1 + n % 28:02d} 00:00:00.000000" if n % 10 == 0 else None,
             "component_parameter": f"component:default/x{n % 50}" if n % 3 else None} for n in range(1, 5001)]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO requests (id, kind, title, requester_ref, capability_ref, product_ref, stage, flow_item_type, "
            "created_at, updated_at, vote_count, delivered_at, value_confirmed_at, component_parameter) VALUES (:id, "
            ":kind, :title, :requester_ref, :capability_ref, :product_ref, :stage, :flow_item_type, :created_at, "
            ":updated_at, :vote_count, :delivered_at, :value_confirmed_at, :component_parameter)"), rows)


def test_statistics_keep_the_value_metrics_on_the_covering_deliveries_index(migrated_engine):
    """Adoption reads every delivered order of the capabilities: from ix_requests_delivered alone, not through
    another index on the capability that visits every row."""
    if migrated_engine.dialect.name != "sqlite":
        return
    from sqlalchemy import func, select
    from sqlalchemy.dialects import sqlite

    from portal.metrics.deliveries import delivered
    from portal.requests.models import Request

    _fill_orders(migrated_engine)
    assert refresh_planner_statistics(migrated_engine) is True
    capabilities = [f"capability:default/c-{n}" for n in range(20)]
    queries = [select(Request.capability_ref, Request.component_ref, Request.component_parameter,
                      func.min(Request.delivered_at)).where(delivered(capabilities))
               .group_by(Request.capability_ref, Request.component_ref, Request.component_parameter),
               select(Request.capability_ref, func.lower(Request.requester_ref), func.min(Request.delivered_at))
               .where(delivered(capabilities)).group_by(Request.capability_ref, func.lower(Request.requester_ref))]
    with migrated_engine.connect() as connection:
        for query in queries:
            compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "COVERING INDEX ix_requests_delivered" in plan, plan
