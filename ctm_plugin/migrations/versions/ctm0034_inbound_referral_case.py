"""an inbound referral accepted keeps the case it was accepted into; its version guards the decision

Revision ID: ctm0034
Revises: ctm0033
Create Date: 2026-12-06 03:45:00.000000

``ctm_inbound_referral.case_id``: the case of this mission a caseworker accepted the referral into (opened for it,
or the person's existing one); NULL while pending or once declined. ``version`` (1 for the referrals already
received): of two caseworkers deciding at once, the second's write finds another version. Plain columns as ``ctm_consent.case_id`` is,
added and dropped in place: no table rebuilt on SQLite, so the follow-ups (ON DELETE CASCADE to their referral)
are never touched. Downgrading forgets which case a referral went to; its status stays.
"""
from alembic import op
import sqlalchemy as sa

revision = 'ctm0034'
down_revision = 'ctm0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ctm_inbound_referral', sa.Column('case_id', sa.Integer(), nullable=True))
    op.create_index('ix_ctm_inbound_referral_case_id', 'ctm_inbound_referral', ['case_id'])
    op.add_column('ctm_inbound_referral', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    op.drop_column('ctm_inbound_referral', 'version')
    op.drop_index('ix_ctm_inbound_referral_case_id', table_name='ctm_inbound_referral')
    op.drop_column('ctm_inbound_referral', 'case_id')
