"""requests: when each was first delivered, and indexes the metrics pages read

`requests.delivered_at` is the first arrival at a delivered stage (delivered, in-use, value-confirmed),
kept when the request moves back; the value metrics read deliveries and adoptions from it and its
index instead of every request's timeline. Existing requests get it from their events. The other
indexes let the metrics count and find requests per product, capability and stage, and confirmed
value by time, without visiting the rows (docs/benchmarks.md, "Product-management pages at scale").

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 12:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

# portal/requests/stages.py DELIVERED_STAGES when this revision was written.
DELIVERED_STAGES = ("delivered", "in-use", "value-confirmed")
INDEXES = {
    "ix_requests_delivered": ["capability_ref", "kind", "delivered_at", "stage", "requester_ref", "component_ref"],
    "ix_requests_capability_confirmed": ["capability_ref", "kind", "value_confirmed_at"],
    "ix_requests_product_kind_stage": ["product_ref", "kind", "stage", "created_at"],
    "ix_requests_capability_kind_stage": ["capability_ref", "kind", "stage", "created_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    stages = ", ".join(f"'{stage}'" for stage in DELIVERED_STAGES)
    op.execute(f"UPDATE requests SET delivered_at = (SELECT min(request_events.at) FROM request_events "
               f"WHERE request_events.request_id = requests.id AND request_events.to_stage IN ({stages}))")
    for name, columns in INDEXES.items():
        op.create_index(name, "requests", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("delivered_at")
