"""catalog search rows carry their entity's kind

Nearly every catalog question is scoped to one kind (`kind=component,spec.type=service`, the facets
of a kind tab). With the entity's kind (lower-cased) in each search row and at the end of
ix_catalog_search_key_value, such a condition is one index range read without a join: the count of
kind=component AND spec.type=service reads spec.type=service's range and checks the kind in the
index, instead of intersecting two ranges of 30,000 and 60,000 entries. The kind goes last so the
index keeps its (key, value, original_value, entity_uid) order, which paging walks.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_OLD_COLUMNS = ("key", "value", "original_value", "entity_uid")


def upgrade() -> None:
    # NOT NULL with a default so SQLite can add it in place; the store always writes the kind.
    op.add_column("catalog_search", sa.Column("kind", sa.String(length=100), nullable=False, server_default=""))
    op.execute(
        "UPDATE catalog_search SET kind = "
        "(SELECT lower(catalog_entities.kind) FROM catalog_entities WHERE catalog_entities.uid = catalog_search.entity_uid)"
        " WHERE EXISTS (SELECT 1 FROM catalog_entities WHERE catalog_entities.uid = catalog_search.entity_uid)"
    )
    op.drop_index("ix_catalog_search_key_value", table_name="catalog_search")
    op.create_index("ix_catalog_search_key_value", "catalog_search", [*_OLD_COLUMNS, "kind"])


def downgrade() -> None:
    op.drop_index("ix_catalog_search_key_value", table_name="catalog_search")
    op.create_index("ix_catalog_search_key_value", "catalog_search", list(_OLD_COLUMNS))
    with op.batch_alter_table("catalog_search") as batch:
        batch.drop_column("kind")
