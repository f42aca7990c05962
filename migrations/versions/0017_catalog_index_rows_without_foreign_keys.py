"""catalog search and relation rows without foreign keys

Search and relation rows are derived from their entity and written and deleted only together with it
(portal/catalog/store.py). The foreign key added a parent lookup to each of the ~30 rows an entity
writes (on PostgreSQL a trigger per row), a sixth of an import's cost, to guard an invariant the
single writer already keeps.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 16:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_PARENT = "catalog_entities.uid"


def _search(with_key: bool) -> sa.Table:
    uid = [sa.ForeignKey(_PARENT, ondelete="CASCADE")] if with_key else []
    return sa.Table(
        "catalog_search", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entity_uid", sa.Text(), *uid, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("original_value", sa.String(length=200), nullable=True),
        sa.Index("ix_catalog_search_key_value", "key", "value", "original_value", "entity_uid"),
        sa.Index("ix_catalog_search_entity_key_value", "entity_uid", "key", "value"),
    )


def _relations(with_key: bool) -> sa.Table:
    uid = [sa.ForeignKey(_PARENT, ondelete="CASCADE")] if with_key else []
    return sa.Table(
        "catalog_relations", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("originating_uid", sa.Text(), *uid, nullable=False),
        sa.Column("source_ref", sa.String(length=400), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("target_ref", sa.String(length=400), nullable=False),
        sa.Index("ix_catalog_relations_originating_uid", "originating_uid"),
        sa.Index("ix_catalog_relations_source_ref", "source_ref"),
        sa.Index("ix_catalog_relations_type_target", "type", "target_ref"),
    )


def _rebuild_on_sqlite(target_has_key: bool) -> None:
    # SQLite cannot drop or add a constraint: batch mode copies each table into the shape given.
    for build in (_search, _relations):
        wanted = build(target_has_key)
        with op.batch_alter_table(wanted.name, recreate="always", copy_from=wanted):
            pass


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(target_has_key=False)
        return
    op.drop_constraint("catalog_search_entity_uid_fkey", "catalog_search", type_="foreignkey")
    op.drop_constraint("catalog_relations_originating_uid_fkey", "catalog_relations", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(target_has_key=True)
        return
    op.create_foreign_key("catalog_search_entity_uid_fkey", "catalog_search", "catalog_entities",
                          ["entity_uid"], ["uid"], ondelete="CASCADE")
    op.create_foreign_key("catalog_relations_originating_uid_fkey", "catalog_relations", "catalog_entities",
                          ["originating_uid"], ["uid"], ondelete="CASCADE")
