"""catalog relations: the source index carries the type and target

`ix_catalog_relations_source_ref` (source_ref) becomes `ix_catalog_relations_source_type_target`
(source_ref, type, target_ref): it serves every lookup by source as before, and the value metrics' join
of delivered orders to their requesters' `memberOf` groups reads only the index
(docs/benchmarks.md, "Product-management pages at scale").

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 14:55:00
"""

from alembic import op


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_catalog_relations_source_ref", table_name="catalog_relations")
    op.create_index("ix_catalog_relations_source_type_target", "catalog_relations", ["source_ref", "type", "target_ref"])


def downgrade() -> None:
    op.drop_index("ix_catalog_relations_source_type_target", table_name="catalog_relations")
    op.create_index("ix_catalog_relations_source_ref", "catalog_relations", ["source_ref"])
