"""re-trafficking matches (HQ's rows of no mission) and the person's names sealed for matching

Revision ID: ctm0024
Revises: ctm0023
Create Date: 2026-12-05 23:30:00.000000

``ctm_person.name`` is new and empty: the host's record fills it at the next refresh, pull or import. The
matches are HQ's (row-level security: an HQ session only, as the fund's). Downgrading drops both.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.migrations.steps import row_security

revision = 'ctm0024'
down_revision = 'ctm0023'
branch_labels = None
depends_on = None

HQ_ONLY = "current_setting('ctm.hq', true) = 'on'"


def upgrade() -> None:
    with op.batch_alter_table('ctm_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200).with_variant(sa.Text(), 'postgresql'), nullable=True))
    op.create_table('ctm_retrafficking_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('earlier_mission', sa.String(length=8), nullable=False),
    sa.Column('earlier_case_id', sa.Integer(), nullable=False),
    sa.Column('earlier_case_number', sa.String(length=40), nullable=False),
    sa.Column('earlier_opened_on', sa.Date(), nullable=False),
    sa.Column('later_mission', sa.String(length=8), nullable=False),
    sa.Column('later_case_id', sa.Integer(), nullable=False),
    sa.Column('later_case_number', sa.String(length=40), nullable=False),
    sa.Column('later_opened_on', sa.Date(), nullable=False),
    sa.Column('evidence', sa.String(length=12), nullable=False),
    sa.Column('score', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('explanation', sa.String(length=200), nullable=False),
    sa.Column('shared_with_earlier', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('found_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_in', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_retrafficking_match')),
    sa.UniqueConstraint('earlier_mission', 'earlier_case_id', 'later_mission', 'later_case_id', name='uq_ctm_retrafficking_match_pair')
    )
    with op.batch_alter_table('ctm_retrafficking_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_retrafficking_match_earlier_mission'), ['earlier_mission'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_retrafficking_match_later_mission'), ['later_mission'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_retrafficking_match_status'), ['status'], unique=False)
    row_security('ctm_retrafficking_match', HQ_ONLY)


def downgrade() -> None:
    op.drop_table('ctm_retrafficking_match')
    with op.batch_alter_table('ctm_person', schema=None) as batch_op:
        batch_op.drop_column('name')
