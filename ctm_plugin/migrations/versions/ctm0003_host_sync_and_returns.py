"""host sync: links, outbox, inbox, feed positions, returns

Revision ID: ctm0003
Revises: ctm0002
Create Date: 2026-11-28 09:41:36.600029
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0003'
down_revision = 'ctm0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_feed_position',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('position', sa.String(length=80), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_feed_position')),
    sa.UniqueConstraint('mission_code', 'feed', name=op.f('uq_ctm_feed_position_mission_code_feed'))
    )
    with op.batch_alter_table('ctm_feed_position', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_feed_position_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('change_key', sa.String(length=160), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_inbox')),
    sa.UniqueConstraint('mission_code', 'feed', 'change_key', name=op.f('uq_ctm_inbox_mission_code_feed_change_key'))
    )
    with op.batch_alter_table('ctm_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_inbox_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_host_link',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=40), nullable=True),
    sa.Column('host_version', sa.Integer(), nullable=True),
    sa.Column('mapping_id', sa.String(length=40), nullable=False),
    sa.Column('mapping_version', sa.String(length=40), nullable=False),
    sa.Column('sync_status', sa.String(length=12), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('conflict', sa.JSON(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_host_link_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_ctm_host_link'))
    )
    with op.batch_alter_table('ctm_host_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_host_link_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('client_reference', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('mapping_id', sa.String(length=40), nullable=False),
    sa.Column('mapping_version', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_outbox_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_outbox')),
    sa.UniqueConstraint('client_reference', name=op.f('uq_ctm_outbox_client_reference'))
    )
    with op.batch_alter_table('ctm_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_outbox_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_outbox_status'), ['status'], unique=False)

    op.create_table('ctm_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('movement_type', sa.String(length=8), nullable=False),
    sa.Column('origin_country', sa.String(length=3), nullable=False),
    sa.Column('origin_location', sa.String(length=3), nullable=False),
    sa.Column('destination_country', sa.String(length=3), nullable=False),
    sa.Column('destination_location', sa.String(length=3), nullable=False),
    sa.Column('earliest_departure', sa.Date(), nullable=False),
    sa.Column('escort', sa.String(length=12), nullable=False),
    sa.Column('fit_to_travel', sa.Boolean(), nullable=False),
    sa.Column('movement_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('legs', sa.JSON(), nullable=False),
    sa.Column('booked_by', sa.String(length=80), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_return_case_id_ctm_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_id'], ['ctm_outbox.id'], name=op.f('fk_ctm_return_outbox_id_ctm_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_return')),
    sa.UniqueConstraint('outbox_id', name=op.f('uq_ctm_return_outbox_id'))
    )
    with op.batch_alter_table('ctm_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_return_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_return_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_return_movement_id'), ['movement_id'], unique=False)

    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('soap_base_url', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('soap_username', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('soap_password', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('mapping_overrides', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.drop_column('mapping_overrides')
        batch_op.drop_column('soap_password')
        batch_op.drop_column('soap_username')
        batch_op.drop_column('soap_base_url')

    with op.batch_alter_table('ctm_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_return_movement_id'))
        batch_op.drop_index(batch_op.f('ix_ctm_return_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_return_case_id'))

    op.drop_table('ctm_return')
    with op.batch_alter_table('ctm_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_ctm_outbox_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_outbox_case_id'))

    op.drop_table('ctm_outbox')
    with op.batch_alter_table('ctm_host_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_host_link_mission_code'))

    op.drop_table('ctm_host_link')
    with op.batch_alter_table('ctm_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_inbox_mission_code'))

    op.drop_table('ctm_inbox')
    with op.batch_alter_table('ctm_feed_position', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_feed_position_mission_code'))

    op.drop_table('ctm_feed_position')
