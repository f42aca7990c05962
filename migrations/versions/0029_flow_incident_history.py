"""incident history, assignees, work item author

Every incident.* event updates its incident; status changes are kept in flow_incident_events so a
reopened incident's earlier resolutions stay visible (portal/flow/lifecycle.py). Work items get the
person who opened them. Rows stored before the lifecycle rules that kept a close time on an open
item are repaired: resolved_at only while done/resolved.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 08:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flow_incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_incident_events_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('uq_flow_incident_event', ['incident_id', 'at', 'event'], unique=True)

    with op.batch_alter_table('flow_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignees', sa.Text(), nullable=True))

    with op.batch_alter_table('flow_work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))

    # Close times kept on open items by the earlier merge rules.
    op.execute("UPDATE flow_work_items SET resolved_at = NULL "
               "WHERE status_category IS NOT NULL AND status_category <> 'done' AND resolved_at IS NOT NULL")
    op.execute("UPDATE flow_incidents SET resolved_at = NULL WHERE status <> 'resolved' AND resolved_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('flow_work_items', schema=None) as batch_op:
        batch_op.drop_column('author')

    with op.batch_alter_table('flow_incidents', schema=None) as batch_op:
        batch_op.drop_column('assignees')

    with op.batch_alter_table('flow_incident_events', schema=None) as batch_op:
        batch_op.drop_index('uq_flow_incident_event')
        batch_op.drop_index(batch_op.f('ix_flow_incident_events_incident_id'))

    op.drop_table('flow_incident_events')
