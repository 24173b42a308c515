"""trends: each mission's pre-computed counts (ctm_trend_cell) and when they were counted (ctm_trend_refresh)

Revision ID: ctm0022
Revises: ctm0021
Create Date: 2026-12-05 23:30:00.000000

Both tables hold mission data (true counts): row-level security scopes them as ctm0017 scopes the others. They
start empty; the trends job counts them. Downgrading drops them (they can be counted again).
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0022'
down_revision = 'ctm0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_trend_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=24), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('exploitation', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_trend_cell'))
    )
    with op.batch_alter_table('ctm_trend_cell', schema=None) as batch_op:
        batch_op.create_index('ix_ctm_trend_cell_lookup', ['mission_code', 'dimension', 'exploitation'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_trend_cell_mission_code'), ['mission_code'], unique=False)
    op.create_table('ctm_trend_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_trend_refresh'))
    )
    with op.batch_alter_table('ctm_trend_refresh', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_trend_refresh_mission_code'), ['mission_code'], unique=False)
    for table in ('ctm_trend_cell', 'ctm_trend_refresh'):
        row_security(table, MISSION_SCOPE)


def downgrade() -> None:
    op.drop_table('ctm_trend_refresh')
    op.drop_table('ctm_trend_cell')
