"""Revision 0025 creates the request tables and its downgrade removes them."""

from __future__ import annotations

from sqlalchemy import inspect

from portal.db import build_engine
from portal.migrate import upgrade
from tests.test_migrations import command_downgrade

TABLES = {"requests", "request_events", "request_votes", "request_comments"}


def test_0025_upgrades_and_downgrades(scratch_database_url):
    engine = build_engine(scratch_database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert TABLES <= set(inspect(connection).get_table_names())
            indexes = {index["name"] for index in inspect(connection).get_indexes("requests")}
        assert {"ix_requests_requester_updated", "ix_requests_stage_capability", "ix_requests_product_stage"} <= indexes
        command_downgrade(engine, "0024")
        with engine.connect() as connection:
            assert not TABLES & set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
