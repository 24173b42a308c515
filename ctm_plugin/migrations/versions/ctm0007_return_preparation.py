"""return preparation: the checklist of the return being prepared, a child's best-interests
determination and HQ's decision on a high-risk return

Revision ID: ctm0007
Revises: ctm0006
Create Date: 2026-12-03 16:41:15.230402
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0007'
down_revision = 'ctm0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_return_preparation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('planned_departure', sa.Date(), nullable=True),
    sa.Column('destination_country', sa.String(length=3), nullable=True),
    sa.Column('counselled_on', sa.Date(), nullable=True),
    sa.Column('document_kind', sa.String(length=16), nullable=True),
    sa.Column('document_number', sa.String(length=40), nullable=True),
    sa.Column('document_expiry', sa.Date(), nullable=True),
    sa.Column('fit_to_travel', sa.Boolean(), nullable=False),
    sa.Column('escort', sa.String(length=12), nullable=True),
    sa.Column('escort_name', sa.String(length=120), nullable=True),
    sa.Column('risk_level', sa.String(length=8), nullable=True),
    sa.Column('risk_reason', sa.Text(), nullable=True),
    sa.Column('family_traced', sa.Boolean(), nullable=False),
    sa.Column('family_assessment', sa.String(length=10), nullable=True),
    sa.Column('alternative_care', sa.Text(), nullable=True),
    sa.Column('signs_of_minority', sa.Boolean(), nullable=False),
    sa.Column('bid_outcome', sa.String(length=10), nullable=True),
    sa.Column('bid_reason', sa.Text(), nullable=True),
    sa.Column('bid_on', sa.Date(), nullable=True),
    sa.Column('bid_by', sa.String(length=80), nullable=True),
    sa.Column('risk_decision', sa.String(length=10), nullable=True),
    sa.Column('risk_decision_reason', sa.Text(), nullable=True),
    sa.Column('risk_decided_by', sa.String(length=80), nullable=True),
    sa.Column('risk_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_return_preparation_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['return_id'], ['ctm_return.id'], name=op.f('fk_ctm_return_preparation_return_id_ctm_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_return_preparation')),
    sa.UniqueConstraint('return_id', name=op.f('uq_ctm_return_preparation_return_id'))
    )
    with op.batch_alter_table('ctm_return_preparation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_return_preparation_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_return_preparation_mission_code'), ['mission_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ctm_return_preparation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_return_preparation_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_return_preparation_case_id'))

    op.drop_table('ctm_return_preparation')
