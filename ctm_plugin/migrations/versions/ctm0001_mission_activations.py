"""mission activations

Revision ID: ctm0001
Revises: 
Create Date: 2026-11-28 07:10:57.202962
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_mission',
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enabled_by', sa.String(length=80), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('mission_code', name=op.f('pk_ctm_mission'))
    )


def downgrade() -> None:
    op.drop_table('ctm_mission')
