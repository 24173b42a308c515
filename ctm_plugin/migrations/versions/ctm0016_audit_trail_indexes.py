"""the audit trail's filters by user and by action, newest first: two indexes on ctm_audit_event

Revision ID: ctm0016
Revises: ctm0015
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op


revision = 'ctm0016'
down_revision = 'ctm0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_ctm_audit_event_user', ['mission_code', 'username', 'id'], unique=False)
        batch_op.create_index('ix_ctm_audit_event_action', ['mission_code', 'action', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ctm_audit_event_action')
        batch_op.drop_index('ix_ctm_audit_event_user')
