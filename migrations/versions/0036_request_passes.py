"""request passes: each request's time in each stage, and its flow finish, kept as its events are written

portal/requests/passes.py derives them from the stage events with the request's value stream, whose
fingerprint goes into `requests.passes_key`. The value stream map reads `request_passes` as one index
range per window, and the portfolio's flow figures read the finish and work time from `requests`
(docs/benchmarks.md, "Product-management pages at scale"). Existing requests have no fingerprint yet:
each scope is derived the first time it is read, by the background refresher or `flowport metrics rebuild`.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 14:20:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

READ_COLUMNS = ["stage", "left_at", "next_exit_at", "stage_seconds", "stage_work_seconds", "forward", "returned_at",
                "entered_at"]
REQUEST_INDEXES = {
    "ix_requests_passes_key": ["product_ref", "kind", "passes_key", "capability_ref"],
    "ix_requests_product_finished": ["product_ref", "kind", "flow_finished_at", "created_at", "flow_work_seconds",
                                     "capability_ref", "flow_item_type", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("passes_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch.add_column(sa.Column("flow_finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("flow_work_seconds", sa.Float(), nullable=True))
    for name, columns in REQUEST_INDEXES.items():
        op.create_index(name, "requests", columns)
    # Capability scopes now read through their product's rows; with sampled statistics SQLite also took
    # this index for deliveries that ix_requests_delivered covers.
    op.drop_index("ix_requests_capability_kind_stage", table_name="requests")
    op.create_table(
        "request_passes",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("request_events.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("product_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("capability_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("left_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("work_seconds", sa.Float(), nullable=True),
        sa.Column("stage_seconds", sa.Float(), nullable=True),
        sa.Column("stage_work_seconds", sa.Float(), nullable=True),
        sa.Column("next_exit_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("forward", sa.Boolean(), nullable=False),
        sa.Column("returned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_request_passes_product", "request_passes", ["product_ref", "kind", *READ_COLUMNS])
    op.create_index("ix_request_passes_capability", "request_passes", ["capability_ref", "kind", *READ_COLUMNS])
    op.create_index("ix_request_passes_request", "request_passes", ["request_id"])


def downgrade() -> None:
    for name in ("ix_request_passes_request", "ix_request_passes_capability", "ix_request_passes_product"):
        op.drop_index(name, table_name="request_passes")
    op.drop_table("request_passes")
    op.create_index("ix_requests_capability_kind_stage", "requests", ["capability_ref", "kind", "stage", "created_at"])
    for name in REQUEST_INDEXES:
        op.drop_index(name, table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("flow_work_seconds")
        batch.drop_column("flow_finished_at")
        batch.drop_column("passes_key")
