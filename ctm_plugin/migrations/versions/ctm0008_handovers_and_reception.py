"""hand-overs between missions, their history, reception tasks

Revision ID: ctm0008
Revises: ctm0007
Create Date: 2026-12-03 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0008'
down_revision = 'ctm0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('child', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('proposed_by', sa.String(length=80), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('receiving_case_id', sa.Integer(), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('from_mission', sa.String(length=8), nullable=False),
    sa.Column('to_mission', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_handover_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiving_case_id'], ['ctm_case.id'], name=op.f('fk_ctm_handover_receiving_case_id_ctm_case')),
    sa.ForeignKeyConstraint(['return_id'], ['ctm_return.id'], name=op.f('fk_ctm_handover_return_id_ctm_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_handover'))
    )
    with op.batch_alter_table('ctm_handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_handover_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_handover_return_id'), ['return_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_handover_from_mission'), ['from_mission'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_handover_to_mission'), ['to_mission'], unique=False)

    op.create_table('ctm_handover_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=20), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('by_mission', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('from_mission', sa.String(length=8), nullable=False),
    sa.Column('to_mission', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['ctm_handover.id'], name=op.f('fk_ctm_handover_event_handover_id_ctm_handover'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_handover_event'))
    )
    with op.batch_alter_table('ctm_handover_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_handover_event_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_handover_event_from_mission'), ['from_mission'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_handover_event_to_mission'), ['to_mission'], unique=False)

    op.create_table('ctm_reception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrived_on', sa.Date(), nullable=True),
    sa.Column('arrival_place', sa.String(length=120), nullable=True),
    sa.Column('received_by', sa.String(length=120), nullable=True),
    sa.Column('immediate_needs', sa.Text(), nullable=True),
    sa.Column('shelter_placement', sa.Text(), nullable=True),
    sa.Column('family_contact', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_reception_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handover_id'], ['ctm_handover.id'], name=op.f('fk_ctm_reception_handover_id_ctm_handover'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_reception')),
    sa.UniqueConstraint('handover_id', name=op.f('uq_ctm_reception_handover_id'))
    )
    with op.batch_alter_table('ctm_reception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_reception_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_reception_mission_code'), ['mission_code'], unique=False)


def downgrade() -> None:
    op.drop_table('ctm_reception')
    op.drop_table('ctm_handover_event')
    op.drop_table('ctm_handover')
