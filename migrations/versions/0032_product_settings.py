"""product settings

What a product's owners set in the portal (portal/products/settings.py): ideas open, announcement,
support link.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 08:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_settings",
        sa.Column("product_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("ideas_open", sa.Boolean(), nullable=False),
        sa.Column("announcement", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("support_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.PrimaryKeyConstraint("product_ref"),
    )


def downgrade() -> None:
    op.drop_table("product_settings")
