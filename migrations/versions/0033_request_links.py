"""request links to flow data

An order's component (its first production deployment moves it to in-use) and an idea's issue-tracker
item (its status moves the idea); portal/requests/follow_flow.py.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 08:40:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("component_ref", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True))
        batch.add_column(sa.Column("tracker_item", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True))
    # The follower looks for delivered orders with a component and ideas with a tracker item.
    op.create_index("ix_requests_component", "requests", ["component_ref", "stage"])
    op.create_index("ix_requests_tracker_item", "requests", ["tracker_item", "stage"])


def downgrade() -> None:
    op.drop_index("ix_requests_tracker_item", table_name="requests")
    op.drop_index("ix_requests_component", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("tracker_item")
        batch.drop_column("component_ref")
