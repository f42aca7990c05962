"""scaffolder tasks: template runs and their append-only events

`scaffolder_tasks` keeps a snapshot of the template, the values, the claim (claimed_by, heartbeat_at)
and the outcome; `scaffolder_task_events` is the log Backstage's clients read with `after=<id>`.
Secrets are never stored: `needs_secrets` only says that some were given.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 08:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def _text(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time():
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "scaffolder_tasks",
        sa.Column("id", _text(36), primary_key=True),
        sa.Column("template_ref", _text(400), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_by", _text(400), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("finished_at", _time(), nullable=True),
        sa.Column("claimed_by", _text(200), nullable=True),
        sa.Column("heartbeat_at", _time(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("needs_secrets", sa.Boolean(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_scaffolder_tasks_status_created", "scaffolder_tasks", ["status", "created_at"])
    op.create_index("ix_scaffolder_tasks_created_by", "scaffolder_tasks", ["created_by", "created_at"])
    op.create_index("ix_scaffolder_tasks_request", "scaffolder_tasks", ["request_id"])

    op.create_table(
        "scaffolder_task_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.String(36), sa.ForeignKey("scaffolder_tasks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("type", _text(20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
    )
    op.create_index("ix_scaffolder_task_events_task", "scaffolder_task_events", ["task_id", "id"])


def downgrade() -> None:
    op.drop_table("scaffolder_task_events")
    op.drop_table("scaffolder_tasks")
