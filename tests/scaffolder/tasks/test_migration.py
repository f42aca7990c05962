"""Revision 0027 creates the task tables and its downgrade removes them."""

from __future__ import annotations

from sqlalchemy import inspect

from portal.db import build_engine
from portal.migrate import upgrade
from tests.test_migrations import command_downgrade

TABLES = {"scaffolder_tasks", "scaffolder_task_events"}


def test_0027_upgrades_and_downgrades(scratch_database_url):
    engine = build_engine(scratch_database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert TABLES <= set(inspect(connection).get_table_names())
            indexes = {index["name"] for index in inspect(connection).get_indexes("scaffolder_tasks")}
            columns = {column["name"] for column in inspect(connection).get_columns("scaffolder_tasks")}
        assert {"ix_scaffolder_tasks_status_created", "ix_scaffolder_tasks_created_by"} <= indexes
        assert not {"secrets", "secret"} & columns  # secrets are never stored
        command_downgrade(engine, "0026")
        with engine.connect() as connection:
            assert not TABLES & set(inspect(connection).get_table_names())
            assert "requests" in set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
