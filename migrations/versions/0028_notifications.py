"""notifications: in-portal notices about requests, one row per recipient

Rows are written where a request is raised or moves (portal/notifications/hooks.py) and read by
their recipient only; the indexes serve the unread count of the bell and the newest-first page.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 08:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recipient_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_notifications_recipient_read", "notifications", ["recipient_ref", "read_at", "id"])
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient_ref", "id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_recipient_id", table_name="notifications")
    op.drop_index("ix_notifications_recipient_read", table_name="notifications")
    op.drop_table("notifications")
