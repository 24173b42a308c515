"""a research export's requester by the host's stable user id, not by username alone

Revision ID: ctm0026
Revises: ctm0025
Create Date: 2026-12-06 02:45:00.000000

A nullable column: a request from before keeps no id (the host's users are the host's table, which the plugin
never reads) and is matched by its username as before. Downgrading drops the column; the usernames stay.
"""
from alembic import op
import sqlalchemy as sa

revision = 'ctm0026'
down_revision = 'ctm0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_research_export', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ctm_research_export', schema=None) as batch_op:
        batch_op.drop_column('requested_by_id')
