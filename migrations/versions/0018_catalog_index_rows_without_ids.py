"""catalog search and relation rows without id columns

Nothing reads these rows by id; on PostgreSQL the serial key cost a sequence step and a primary-key
index insert per row, 13 % of a large import. SQLite keeps its implicit rowid either way.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 17:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _search(with_id: bool) -> sa.Table:
    ids = [sa.Column("id", sa.Integer(), primary_key=True)] if with_id else []
    return sa.Table(
        "catalog_search", sa.MetaData(), *ids,
        sa.Column("entity_uid", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("original_value", sa.String(length=200), nullable=True),
        sa.Index("ix_catalog_search_key_value", "key", "value", "original_value", "entity_uid"),
        sa.Index("ix_catalog_search_entity_key_value", "entity_uid", "key", "value"),
    )


def _relations(with_id: bool) -> sa.Table:
    ids = [sa.Column("id", sa.Integer(), primary_key=True)] if with_id else []
    return sa.Table(
        "catalog_relations", sa.MetaData(), *ids,
        sa.Column("originating_uid", sa.Text(), nullable=False),
        sa.Column("source_ref", sa.String(length=400), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("target_ref", sa.String(length=400), nullable=False),
        sa.Index("ix_catalog_relations_originating_uid", "originating_uid"),
        sa.Index("ix_catalog_relations_source_ref", "source_ref"),
        sa.Index("ix_catalog_relations_type_target", "type", "target_ref"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for build in (_search, _relations):
            # Copy from the current shape (with id) into the new one (without).
            with op.batch_alter_table(build(True).name, recreate="always", copy_from=build(True)) as batch:
                batch.drop_column("id")
        return
    op.drop_column("catalog_search", "id")
    op.drop_column("catalog_relations", "id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for build in (_search, _relations):
            with op.batch_alter_table(build(False).name, recreate="always", copy_from=build(False)) as batch:
                batch.add_column(sa.Column("id", sa.Integer(), primary_key=True))
        return
    for table in ("catalog_search", "catalog_relations"):
        op.add_column(table, sa.Column("id", sa.Integer(), sa.Identity(), nullable=False))
        op.create_primary_key(f"{table}_pkey", table, ["id"])
