"""cases screening process assistance audit

Revision ID: ctm0002
Revises: ctm0001
Create Date: 2026-11-28 08:37:29.802766
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0002'
down_revision = 'ctm0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_case')),
    sa.UniqueConstraint('mission_code', 'beneficiary_id', name=op.f('uq_ctm_case_mission_code_beneficiary_id')),
    sa.UniqueConstraint('mission_code', 'case_number', name=op.f('uq_ctm_case_mission_code_case_number'))
    )
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_case_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('field_groups', sa.JSON(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_audit_event_case_id_ctm_case'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_audit_event'))
    )
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_audit_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_audit_event_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_case_handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_mission', sa.String(length=8), nullable=False),
    sa.Column('to_mission', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_case_handover_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_case_handover'))
    )
    with op.batch_alter_table('ctm_case_handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_case_handover_case_id'), ['case_id'], unique=False)

    op.create_table('ctm_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('interpreter_used', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_consent_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_consent'))
    )
    with op.batch_alter_table('ctm_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_consent_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_consent_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('locality', sa.String(length=120), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('start_precision', sa.String(length=10), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_precision', sa.String(length=10), nullable=False),
    sa.Column('transport', sa.String(length=20), nullable=True),
    sa.Column('documents', sa.String(length=20), nullable=True),
    sa.Column('border_crossing', sa.String(length=20), nullable=True),
    sa.Column('exit_mode', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_event_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_event'))
    )
    with op.batch_alter_table('ctm_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_event_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_perpetrator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=120), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('sex', sa.String(length=40), nullable=True),
    sa.Column('nationality', sa.String(length=3), nullable=True),
    sa.Column('relationship_to_victim', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_perpetrator_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_perpetrator'))
    )
    with op.batch_alter_table('ctm_perpetrator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_perpetrator_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_perpetrator_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_person',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('gender', sa.String(length=40), nullable=True),
    sa.Column('marital_status', sa.String(length=40), nullable=True),
    sa.Column('education', sa.String(length=60), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('citizenships', sa.JSON(), nullable=False),
    sa.Column('number_of_children', sa.Integer(), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_date_precision', sa.String(length=10), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_person_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_ctm_person'))
    )
    with op.batch_alter_table('ctm_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_person_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('organisation', sa.String(length=120), nullable=False),
    sa.Column('organisation_type', sa.String(length=40), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('case_worker', sa.String(length=120), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_referral_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_referral'))
    )
    with op.batch_alter_table('ctm_referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_referral_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_referral_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_screening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('interview_date', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('interviewer', sa.String(length=120), nullable=False),
    sa.Column('interpreter', sa.String(length=120), nullable=True),
    sa.Column('language', sa.String(length=3), nullable=True),
    sa.Column('age_at_act', sa.Integer(), nullable=True),
    sa.Column('acts', sa.JSON(), nullable=False),
    sa.Column('means', sa.JSON(), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('recommendation', sa.String(length=30), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_screening_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_screening'))
    )
    with op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_screening_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_screening_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=120), nullable=False),
    sa.Column('provider_type', sa.String(length=40), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_service_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_service'))
    )
    with op.batch_alter_table('ctm_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_service_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_service_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_victim_context',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('trafficking_status', sa.String(length=40), nullable=True),
    sa.Column('status_decided_by', sa.String(length=40), nullable=True),
    sa.Column('age_first_trafficked', sa.Integer(), nullable=True),
    sa.Column('recruitment_methods', sa.JSON(), nullable=False),
    sa.Column('control_methods', sa.JSON(), nullable=False),
    sa.Column('exploitation_types', sa.JSON(), nullable=False),
    sa.Column('labour_industry', sa.String(length=60), nullable=True),
    sa.Column('sexual_exploitation_types', sa.JSON(), nullable=False),
    sa.Column('recruiter_relationship', sa.String(length=20), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_victim_context_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_ctm_victim_context'))
    )
    with op.batch_alter_table('ctm_victim_context', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_victim_context_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_determination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('previous', sa.String(length=30), nullable=True),
    sa.Column('decision', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_determination_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screening_id'], ['ctm_screening.id'], name=op.f('fk_ctm_determination_screening_id_ctm_screening'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_determination'))
    )
    with op.batch_alter_table('ctm_determination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_determination_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_determination_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_perpetrator_event',
    sa.Column('perpetrator_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ctm_event.id'], name=op.f('fk_ctm_perpetrator_event_event_id_ctm_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['perpetrator_id'], ['ctm_perpetrator.id'], name=op.f('fk_ctm_perpetrator_event_perpetrator_id_ctm_perpetrator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('perpetrator_id', 'event_id', name=op.f('pk_ctm_perpetrator_event'))
    )
    with op.batch_alter_table('ctm_perpetrator_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_perpetrator_event_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_number_prefix', sa.String(length=12), server_default='CT', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.drop_column('case_number_prefix')

    with op.batch_alter_table('ctm_perpetrator_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_perpetrator_event_event_id'))

    op.drop_table('ctm_perpetrator_event')
    with op.batch_alter_table('ctm_determination', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_determination_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_determination_case_id'))

    op.drop_table('ctm_determination')
    with op.batch_alter_table('ctm_victim_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_victim_context_mission_code'))

    op.drop_table('ctm_victim_context')
    with op.batch_alter_table('ctm_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_service_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_service_case_id'))

    op.drop_table('ctm_service')
    with op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_screening_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_screening_case_id'))

    op.drop_table('ctm_screening')
    with op.batch_alter_table('ctm_referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_referral_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_referral_case_id'))

    op.drop_table('ctm_referral')
    with op.batch_alter_table('ctm_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_person_mission_code'))

    op.drop_table('ctm_person')
    with op.batch_alter_table('ctm_perpetrator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_perpetrator_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_perpetrator_case_id'))

    op.drop_table('ctm_perpetrator')
    with op.batch_alter_table('ctm_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_event_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_event_case_id'))

    op.drop_table('ctm_event')
    with op.batch_alter_table('ctm_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_consent_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_consent_case_id'))

    op.drop_table('ctm_consent')
    with op.batch_alter_table('ctm_case_handover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_case_handover_case_id'))

    op.drop_table('ctm_case_handover')
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_audit_event_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_audit_event_case_id'))
        batch_op.drop_index(batch_op.f('ix_ctm_audit_event_at'))

    op.drop_table('ctm_audit_event')
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_case_mission_code'))

    op.drop_table('ctm_case')
