"""requests: orders and ideas, their stage events, votes and comments

One row per request (shown as REQ-<id>) with its current stage; `request_events` is the append-only
timeline. The indexes lead with each listing filter and end with (updated_at, id), the order pages
are walked in: "my requests" (requester), the owners' queues (stage + capability, product + stage).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 05:36:22
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

REQUEST_INDEXES = {
    "ix_requests_updated": ["updated_at", "id"],
    "ix_requests_requester_updated": ["requester_ref", "updated_at", "id"],
    "ix_requests_stage_capability": ["stage", "capability_ref", "updated_at", "id"],
    "ix_requests_product_stage": ["product_ref", "stage", "updated_at", "id"],
    "ix_requests_capability_updated": ["capability_ref", "updated_at", "id"],
    "ix_requests_kind_updated": ["kind", "updated_at", "id"],
}


def _text(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time():
    return sqlmodel.sql.sqltypes.UTCDateTime()


def _request_id() -> sa.Column:
    return sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", _text(10), nullable=False),
        sa.Column("title", _text(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("capability_ref", _text(400), nullable=True),
        sa.Column("product_ref", _text(400), nullable=True),
        sa.Column("requester_ref", _text(400), nullable=False),
        sa.Column("stage", _text(100), nullable=False),
        sa.Column("flow_item_type", _text(10), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("lead_time_ended_at", _time(), nullable=True),
        sa.Column("target_lead_time", _text(100), nullable=True),
        sa.Column("target_lead_time_seconds", sa.Integer(), nullable=True),
        sa.Column("task_id", _text(100), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("value_hypothesis", sa.JSON(), nullable=True),
        sa.Column("vote_count", sa.Integer(), nullable=False),
        sa.Column("value_rating", sa.Integer(), nullable=True),
        sa.Column("value_time_saved", _text(100), nullable=True),
        sa.Column("value_time_saved_seconds", sa.Integer(), nullable=True),
        sa.Column("value_comment", sa.Text(), nullable=True),
        sa.Column("value_confirmed_at", _time(), nullable=True),
    )
    for name, columns in REQUEST_INDEXES.items():
        op.create_index(name, "requests", columns)

    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _request_id(),
        sa.Column("at", _time(), nullable=False),
        sa.Column("actor", _text(400), nullable=False),
        sa.Column("from_stage", _text(100), nullable=True),
        sa.Column("to_stage", _text(100), nullable=False),
        sa.Column("source", _text(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("work_time_seconds", sa.Integer(), nullable=True),
        sa.Column("is_rework", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_request_events_request_at", "request_events", ["request_id", "at", "id"])

    op.create_table(
        "request_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _request_id(),
        sa.Column("voter_ref", _text(400), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.UniqueConstraint("request_id", "voter_ref", name="uq_request_votes_voter"),
    )

    op.create_table(
        "request_comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        _request_id(),
        sa.Column("author_ref", _text(400), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_request_comments_request_at", "request_comments", ["request_id", "at", "id"])


def downgrade() -> None:
    # Dropping a table drops its indexes on both databases.
    for table in ("request_comments", "request_votes", "request_events", "requests"):
        op.drop_table(table)
