"""research exports: a researcher's request, HQ's decision, the one download and the k-anonymity report

Revision ID: ctm0023
Revises: ctm0022
Create Date: 2026-12-05 23:50:00.000000

A new table of mission data, scoped as ctm0017 scopes the others. Downgrading drops it with its requests.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0023'
down_revision = 'ctm0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_research_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('missions', sa.JSON(), nullable=False),
    sa.Column('layout', sa.String(length=8), nullable=False),
    sa.Column('year_from', sa.Integer(), nullable=False),
    sa.Column('year_to', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('downloaded_at', UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_research_export'))
    )
    with op.batch_alter_table('ctm_research_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_research_export_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_research_export_status'), ['status'], unique=False)
    row_security('ctm_research_export', MISSION_SCOPE)


def downgrade() -> None:
    with op.batch_alter_table('ctm_research_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_research_export_status'))
        batch_op.drop_index(batch_op.f('ix_ctm_research_export_mission_code'))
    op.drop_table('ctm_research_export')
