"""request import keys, request events by time

`flowport requests import` keeps each imported request's id from its source (a Jira key, a ticket
number) with a digest of the line it came from, so importing the same file again changes nothing.
The metrics find the requests that moved in a time window through `ix_request_events_at`.

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-06 08:20:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0031'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_import_keys",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("content_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_index("ix_request_import_keys_request", "request_import_keys", ["request_id"])
    op.create_index("ix_request_events_at", "request_events", ["at", "request_id"])


def downgrade() -> None:
    op.drop_index("ix_request_events_at", table_name="request_events")
    op.drop_table("request_import_keys")
