"""Alembic is the only schema source: the migrated database must match the models exactly."""

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, text
from sqlmodel import SQLModel

import portal.models_registry  # noqa: F401
from portal.catalog.models import CatalogEntity
from portal.db import build_engine
from portal.migrate import alembic_config, upgrade


def test_migrations_form_one_line_of_history():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_search_rows_stored_before_0021_get_their_entitys_kind(scratch_database_url):
    engine = build_engine(scratch_database_url)
    try:
        upgrade(engine, "0020")
        now = datetime(2026, 11, 27, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(insert(CatalogEntity.__table__).values(
                uid="u-1", entity_ref="component:default/web", kind="Component", namespace="default", name="web",
                body="{}", location_key="file:/c.yaml", content_hash="h", etag="e", orphan=False,
                created_at=now, updated_at=now))
            connection.execute(text(
                "INSERT INTO catalog_search (entity_uid, key, value, original_value) VALUES "
                "('u-1', 'spec.type', 'service', 'service'), ('gone', 'kind', 'api', 'API')"))
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT entity_uid, kind FROM catalog_search ORDER BY entity_uid")).all()
        # A row whose entity no longer exists keeps the empty default: it matches no kind.
        assert [tuple(row) for row in rows] == [("gone", ""), ("u-1", "component")]
        command_downgrade(engine, "0020")
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("catalog_search")}
        assert "kind" not in columns
    finally:
        engine.dispose()


def command_downgrade(engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
