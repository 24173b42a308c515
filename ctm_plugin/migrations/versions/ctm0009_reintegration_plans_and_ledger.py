"""reintegration: plans with their elements and revisions, disbursements, the append-only ledger

Revision ID: ctm0009
Revises: ctm0008
Create Date: 2026-12-04 15:51:21.466129
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0009'
down_revision = 'ctm0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_plan_element',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('objective', sa.Text(), nullable=False),
    sa.Column('provider_kind', sa.String(length=20), nullable=False),
    sa.Column('provider_name', sa.String(length=120), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_plan_element_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_plan_element'))
    )
    with op.batch_alter_table('ctm_plan_element', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_plan_element_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_plan_element_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_reintegration_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=True),
    sa.Column('agreed_recorded_by', sa.String(length=80), nullable=True),
    sa.Column('agreed_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_reintegration_plan_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_reintegration_plan')),
    sa.UniqueConstraint('case_id', name=op.f('uq_ctm_reintegration_plan_case_id'))
    )
    with op.batch_alter_table('ctm_reintegration_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_reintegration_plan_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_disbursement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('emergency_request_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('payee', sa.String(length=10), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_disbursement_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['element_id'], ['ctm_plan_element.id'], name=op.f('fk_ctm_disbursement_element_id_ctm_plan_element')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_disbursement'))
    )
    with op.batch_alter_table('ctm_disbursement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_disbursement_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_disbursement_element_id'), ['element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_disbursement_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_plan_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=20), nullable=False),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_plan_revision_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['element_id'], ['ctm_plan_element.id'], name=op.f('fk_ctm_plan_revision_element_id_ctm_plan_element'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_plan_revision')),
    sa.UniqueConstraint('case_id', 'revision', name=op.f('uq_ctm_plan_revision_case_id_revision'))
    )
    with op.batch_alter_table('ctm_plan_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_plan_revision_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_plan_revision_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('disbursement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('donor', sa.String(length=120), nullable=True),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('payment_method', sa.String(length=20), nullable=True),
    sa.Column('receipt_reference', sa.String(length=60), nullable=True),
    sa.Column('payee', sa.String(length=10), nullable=True),
    sa.Column('payee_name', sa.String(length=120), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_ledger_entry_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['disbursement_id'], ['ctm_disbursement.id'], name=op.f('fk_ctm_ledger_entry_disbursement_id_ctm_disbursement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reverses_id'], ['ctm_ledger_entry.id'], name=op.f('fk_ctm_ledger_entry_reverses_id_ctm_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_ledger_entry')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ctm_ledger_entry_reverses_id'))
    )
    with op.batch_alter_table('ctm_ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_ledger_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_ledger_entry_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_ledger_entry_disbursement_id'), ['disbursement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_ledger_entry_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_ledger_entry_project_code'), ['project_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ctm_ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_ledger_entry_project_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_ledger_entry_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_ledger_entry_disbursement_id'))
        batch_op.drop_index(batch_op.f('ix_ctm_ledger_entry_case_id'))
        batch_op.drop_index(batch_op.f('ix_ctm_ledger_entry_at'))

    op.drop_table('ctm_ledger_entry')
    with op.batch_alter_table('ctm_plan_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_plan_revision_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_plan_revision_case_id'))

    op.drop_table('ctm_plan_revision')
    with op.batch_alter_table('ctm_disbursement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_disbursement_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_disbursement_element_id'))
        batch_op.drop_index(batch_op.f('ix_ctm_disbursement_case_id'))

    op.drop_table('ctm_disbursement')
    with op.batch_alter_table('ctm_reintegration_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_reintegration_plan_mission_code'))

    op.drop_table('ctm_reintegration_plan')
    with op.batch_alter_table('ctm_plan_element', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_plan_element_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_plan_element_case_id'))

    op.drop_table('ctm_plan_element')
