"""the people a downloaded research export released, as keyed indexes of their cases

Revision ID: ctm0032
Revises: ctm0031
Create Date: 2026-12-06 03:40:00.000000

A new table of mission data, scoped as ctm0017 scopes the others (row-level security on PostgreSQL), its rows
deleted with their request. An export downloaded before has none: a later export that overlaps it is set beside
it made again from the cases as they are, as before. Downgrading drops the table.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0032'
down_revision = 'ctm0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_research_export_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('person', sa.Integer(), nullable=False),
    sa.Column('case_index', sa.String(length=64), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['export_id'], ['ctm_research_export.id'],
                            name=op.f('fk_ctm_research_export_case_export_id_ctm_research_export'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_research_export_case'))
    )
    op.create_index(op.f('ix_ctm_research_export_case_mission_code'), 'ctm_research_export_case', ['mission_code'])
    op.create_index(op.f('ix_ctm_research_export_case_export_id'), 'ctm_research_export_case', ['export_id'])
    row_security('ctm_research_export_case', MISSION_SCOPE)


def downgrade() -> None:
    op.drop_index(op.f('ix_ctm_research_export_case_export_id'), table_name='ctm_research_export_case')
    op.drop_index(op.f('ix_ctm_research_export_case_mission_code'), table_name='ctm_research_export_case')
    op.drop_table('ctm_research_export_case')
