"""DORA rollup: the flow link change log, each component's attributed samples and their freshness

portal/flow/link_changes.py logs which links a flow write touched and from when; portal/metrics/
dora_rollup.py keeps each component's DORA samples current from it, and dora_samples.py reads them.
Existing installations start with an empty rollup: each component is built the first time it is read
(or by the background refresher, or `flowport metrics rebuild`).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 11:50:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flow_link_changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("link_annotation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("link_value", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "metrics_dora_samples",
        sa.Column("component_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("sample_id", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("deployment_id", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("deployment_at", sa.DateTime(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("coding_seconds", sa.Float(), nullable=True),
        sa.Column("review_seconds", sa.Float(), nullable=True),
        sa.Column("deploy_seconds", sa.Float(), nullable=True),
        sa.Column("recovery_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("component_ref", "kind", "at", "sample_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ux_metrics_dora_samples_sample", "metrics_dora_samples", ["component_ref", "kind", "sample_id"],
                    unique=True)
    op.create_table(
        "metrics_dora_state",
        sa.Column("component_ref", sqlmodel.sql.sqltypes.AutoString(length=400), primary_key=True),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("consumed_change_id", _ID, nullable=False, server_default="0"),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("metrics_dora_state")
    op.drop_index("ux_metrics_dora_samples_sample", table_name="metrics_dora_samples")
    op.drop_table("metrics_dora_samples")
    op.drop_table("flow_link_changes")
