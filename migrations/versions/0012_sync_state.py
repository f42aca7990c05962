"""pull sync state

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 13:50:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('connection', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('resource', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('validators', sa.Text(), nullable=True),
    sa.Column('last_sync_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_requests', sa.Integer(), nullable=False),
    sa.Column('last_not_modified', sa.Integer(), nullable=False),
    sa.Column('last_records', sa.Integer(), nullable=False),
    sa.Column('requests_total', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'connection', 'resource', name='uq_sync_state')
    )
    with op.batch_alter_table('sync_states', schema=None) as batch_op:
        # The scheduler looks for connections whose last sync is older than the interval.
        batch_op.create_index('ix_sync_states_last_sync_at', ['last_sync_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_states', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_states_last_sync_at')
    op.drop_table('sync_states')
