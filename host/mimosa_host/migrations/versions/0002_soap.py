"""SOAP services: API users, nonce cache, client requests, movement change feed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:44:56.467638
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_nonce')),
    sa.UniqueConstraint('username', 'nonce', name=op.f('uq_api_nonce_username_nonce'))
    )
    with op.batch_alter_table('api_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_nonce_seen_at'), ['seen_at'], unique=False)

    op.create_table('api_user',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_api_user'))
    )
    op.create_table('client_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_username', sa.String(length=80), nullable=False),
    sa.Column('client_reference', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=20), nullable=False),
    sa.Column('response_xml', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_request')),
    sa.UniqueConstraint('api_username', 'client_reference', name=op.f('uq_client_request_api_username_client_reference'))
    )
    with op.batch_alter_table('client_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_request_record_id'), ['record_id'], unique=False)

    op.create_table('api_user_mission',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['mission_code'], ['mission.code'], name=op.f('fk_api_user_mission_mission_code_mission')),
    sa.ForeignKeyConstraint(['username'], ['api_user.username'], name=op.f('fk_api_user_mission_username_api_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('username', 'mission_code', name=op.f('pk_api_user_mission'))
    )
    op.create_table('movement_change',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('movement_id', sa.String(length=20), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('api_username', sa.String(length=80), nullable=True),
    sa.Column('client_reference', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('legs', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['movement_id'], ['movement.movement_id'], name=op.f('fk_movement_change_movement_id_movement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_movement_change')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('movement_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movement_change_movement_id'), ['movement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('movement_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movement_change_movement_id'))

    op.drop_table('movement_change')
    op.drop_table('api_user_mission')
    with op.batch_alter_table('client_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_request_record_id'))

    op.drop_table('client_request')
    op.drop_table('api_user')
    with op.batch_alter_table('api_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_nonce_seen_at'))

    op.drop_table('api_nonce')
