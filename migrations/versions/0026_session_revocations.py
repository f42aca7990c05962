"""session revocations

Sign-out ends every session of the user (portal/auth/session_rules.py): sessions that began before
`revoked_before` are over.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 07:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_revocations",
        sa.Column("user_ref", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("revoked_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_ref"),
    )


def downgrade() -> None:
    op.drop_table("session_revocations")
