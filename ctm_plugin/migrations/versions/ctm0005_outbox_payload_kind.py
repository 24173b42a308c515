"""outbox: the payload's kind in its own column

Revision ID: ctm0005
Revises: ctm0003
Create Date: 2026-12-03 14:05:00.000000

A ``SaveBeneficiary`` payload used to be told apart by its first character: JSON values for an
update mapped when sent, else the XML the mapping built when queued. Existing rows get the kind
their payload has (a delivered creation keeps an empty payload: ``xml``).
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0005'
down_revision = 'ctm0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_kind', sa.String(length=8), server_default='xml', nullable=False))
    outbox = sa.table('ctm_outbox', sa.column('payload', sa.Text()), sa.column('payload_kind', sa.String(8)))
    op.execute(outbox.update().where(outbox.c.payload.like('{%')).values(payload_kind='json'))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35): batch mode would copy ctm_outbox into a new table and
    # drop the old one, which the return bookings' foreign keys to it forbid once rows are there.
    op.drop_column('ctm_outbox', 'payload_kind')
