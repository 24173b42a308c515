"""host tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 07:47:16.288861
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mission',
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_mission'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_hq_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('last_failed_login', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('beneficiary',
    sa.Column('beneficiary_id', sa.String(length=20), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('family_name', sa.String(length=120), nullable=False),
    sa.Column('given_name', sa.String(length=120), nullable=False),
    sa.Column('middle_name', sa.String(length=120), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_date_estimated', sa.Boolean(), nullable=False),
    sa.Column('nationality', sa.String(length=3), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('vulnerabilities', sa.JSON(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=True),
    sa.Column('record_version', sa.Integer(), nullable=False),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mission_code'], ['mission.code'], name=op.f('fk_beneficiary_mission_code_mission')),
    sa.PrimaryKeyConstraint('beneficiary_id', name=op.f('pk_beneficiary'))
    )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_last_modified'), ['last_modified'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_mission_code'), ['mission_code'], unique=False)

    op.create_table('movement',
    sa.Column('movement_id', sa.String(length=20), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=True),
    sa.Column('movement_type', sa.String(length=8), nullable=False),
    sa.Column('origin_country', sa.String(length=3), nullable=False),
    sa.Column('origin_location', sa.String(length=3), nullable=False),
    sa.Column('destination_country', sa.String(length=3), nullable=False),
    sa.Column('destination_location', sa.String(length=3), nullable=False),
    sa.Column('earliest_departure', sa.Date(), nullable=False),
    sa.Column('escort_type', sa.String(length=12), nullable=False),
    sa.Column('fit_to_travel', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mission_code'], ['mission.code'], name=op.f('fk_movement_mission_code_mission')),
    sa.PrimaryKeyConstraint('movement_id', name=op.f('pk_movement'))
    )
    with op.batch_alter_table('movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movement_mission_code'), ['mission_code'], unique=False)

    op.create_table('plugin_enablement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('plugin_name', sa.String(length=80), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['mission_code'], ['mission.code'], name=op.f('fk_plugin_enablement_mission_code_mission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_enablement')),
    sa.UniqueConstraint('mission_code', 'plugin_name', name=op.f('uq_plugin_enablement_mission_code_plugin_name'))
    )
    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('role', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['mission_code'], ['mission.code'], name=op.f('fk_role_grant_mission_code_mission')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_role_grant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('user_id', 'mission_code', 'role', name=op.f('uq_role_grant_user_id_mission_code_role'))
    )
    op.create_table('beneficiary_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issuing_country', sa.String(length=3), nullable=False),
    sa.Column('expires', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.beneficiary_id'], name=op.f('fk_beneficiary_document_beneficiary_id_beneficiary'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_document'))
    )
    with op.batch_alter_table('beneficiary_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_document_number'), ['number'], unique=False)

    op.create_table('movement_beneficiary',
    sa.Column('movement_id', sa.String(length=20), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.beneficiary_id'], name=op.f('fk_movement_beneficiary_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.movement_id'], name=op.f('fk_movement_beneficiary_movement_id_movement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('movement_id', 'beneficiary_id', name=op.f('pk_movement_beneficiary'))
    )
    op.create_table('movement_leg',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=40), nullable=False),
    sa.Column('flight_number', sa.String(length=12), nullable=False),
    sa.Column('from_location', sa.String(length=3), nullable=False),
    sa.Column('to_location', sa.String(length=3), nullable=False),
    sa.Column('departure', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.movement_id'], name=op.f('fk_movement_leg_movement_id_movement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_movement_leg')),
    sa.UniqueConstraint('movement_id', 'sequence', name=op.f('uq_movement_leg_movement_id_sequence'))
    )


def downgrade() -> None:
    op.drop_table('movement_leg')
    op.drop_table('movement_beneficiary')
    with op.batch_alter_table('beneficiary_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_document_number'))

    op.drop_table('beneficiary_document')
    op.drop_table('role_grant')
    op.drop_table('plugin_enablement')
    with op.batch_alter_table('movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movement_mission_code'))

    op.drop_table('movement')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_mission_code'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_last_modified'))

    op.drop_table('beneficiary')
    op.drop_table('user_account')
    op.drop_table('mission')
