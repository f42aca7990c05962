"""webhook body encoding

Inbox bodies above 1 KiB are stored zlib-compressed (`body_encoding = 'zlib'`); NULL means as
received. GitHub's JSON shrinks about 6x, and at a thousand deliveries a second the disk writes were
what made acknowledgements wait.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 19:25:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_encoding', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    # Compressed bodies are expanded first, so the older code reads every body as received.
    connection = op.get_bind()
    import zlib

    rows = connection.execute(sa.text(
        "SELECT id, body FROM webhook_deliveries WHERE body_encoding = 'zlib'")).fetchall()
    for row in rows:
        connection.execute(sa.text("UPDATE webhook_deliveries SET body = :body WHERE id = :id"),
                           {"body": zlib.decompress(row.body), "id": row.id})
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('body_encoding')
