"""requests: the `component` parameter of each order, beside its parameters

`requests.component_parameter` is the order's `component` parameter when it is text of at most 400
characters; adoption groups delivered orders by it from `ix_requests_delivered` instead of parsing every
order's parameters (docs/benchmarks.md, "Product-management pages at scale"). Existing orders get it from
their parameters here.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 15:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

DELIVERED = ["capability_ref", "kind", "delivered_at", "stage", "requester_ref", "component_ref"]


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("component_parameter", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE requests SET component_parameter = parameters ->> 'component' "
                   "WHERE json_typeof(parameters -> 'component') = 'string' "
                   "AND length(parameters ->> 'component') <= 400")
    else:
        op.execute("""UPDATE requests SET component_parameter = json_extract(parameters, '$."component"') """
                   """WHERE json_type(parameters, '$."component"') = 'text' """
                   """AND length(json_extract(parameters, '$."component"')) <= 400""")
    op.drop_index("ix_requests_delivered", table_name="requests")
    op.create_index("ix_requests_delivered", "requests", [*DELIVERED, "component_parameter"])


def downgrade() -> None:
    op.drop_index("ix_requests_delivered", table_name="requests")
    op.create_index("ix_requests_delivered", "requests", DELIVERED)
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("component_parameter")
