"""what is due: follow-ups, referrals' answers, people flagged for screening

Every referral recorded before this revision becomes ``sent`` (awaiting its answer), those of closed cases
and of cases handed over to another mission too. No data change is needed for them: the due list reads
open cases not handed over only (services/due.py, ``open_here``), so they are never listed as overdue,
and a reopened case's referral is due again, as it should be.

Revision ID: ctm0015
Revises: ctm0014
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0015'
down_revision = 'ctm0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_by', sa.String(length=80), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_follow_up_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_follow_up'))
    )
    with op.batch_alter_table('ctm_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_follow_up_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_follow_up_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_follow_up_owner'), ['owner'], unique=False)

    op.create_table('ctm_screening_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=40), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dismissed_by', sa.String(length=80), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismiss_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_screening_candidate')),
    sa.UniqueConstraint('mission_code', 'beneficiary_id', name=op.f('uq_ctm_screening_candidate_mission_code_beneficiary_id'))
    )
    with op.batch_alter_table('ctm_screening_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_screening_candidate_mission_code'), ['mission_code'], unique=False)

    # Every referral recorded before answers were kept is still waiting for its answer.
    with op.batch_alter_table('ctm_referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), server_default='sent', nullable=False))
        batch_op.add_column(sa.Column('accepted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('declined_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('answered_by', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ctm_referral', schema=None) as batch_op:
        batch_op.drop_column('answered_by')
        batch_op.drop_column('completed_on')
        batch_op.drop_column('declined_on')
        batch_op.drop_column('accepted_on')
        batch_op.drop_column('status')

    with op.batch_alter_table('ctm_screening_candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_screening_candidate_mission_code'))
    op.drop_table('ctm_screening_candidate')

    with op.batch_alter_table('ctm_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_follow_up_owner'))
        batch_op.drop_index(batch_op.f('ix_ctm_follow_up_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_follow_up_case_id'))
    op.drop_table('ctm_follow_up')
