"""the case list's indexes: keyset paging by opened_on and updated_at, an owner's cases by updated_at

Revision ID: ctm0012
Revises: ctm0011
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op


revision = 'ctm0012'
down_revision = 'ctm0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.create_index('ix_ctm_case_opened', ['mission_code', 'opened_on', 'id'], unique=False)
        batch_op.create_index('ix_ctm_case_updated', ['mission_code', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_ctm_case_owner', ['mission_code', 'owner', 'updated_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.drop_index('ix_ctm_case_owner')
        batch_op.drop_index('ix_ctm_case_updated')
        batch_op.drop_index('ix_ctm_case_opened')
