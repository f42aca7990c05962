"""catalog facet counts kept by the store

Entity counts per (key, kind, value, original_value) for the keys catalogs are faceted by, so their
facets stay a small lookup right after a catalog write (portal/catalog/kept_counts.py). Filled
here from the search rows; the store keeps it from then on.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 21:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# As portal/catalog/kept_counts.COUNTED_KEYS was when this revision was written; a later change
# of that set needs a revision of its own that refills the table.
COUNTED_KEYS = ("kind", "metadata.namespace", "metadata.tags", "spec.lifecycle", "spec.owner", "spec.type")


def upgrade() -> None:
    op.create_table(
        "catalog_facet_counts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("original_value", sa.String(length=200), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "kind", "value", "original_value"),
    )
    keys = ", ".join(f"'{key}'" for key in COUNTED_KEYS)
    op.execute(
        "INSERT INTO catalog_facet_counts (key, kind, value, original_value, entities) "
        "SELECT key, kind, value, original_value, count(*) FROM catalog_search "
        f"WHERE key IN ({keys}) AND original_value IS NOT NULL "
        "GROUP BY key, kind, value, original_value"
    )


def downgrade() -> None:
    op.drop_table("catalog_facet_counts")
