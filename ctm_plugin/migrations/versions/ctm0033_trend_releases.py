"""trends: releases of closed years (ctm_trend_release), published once and never rewritten

Revision ID: ctm0033
Revises: ctm0032
Create Date: 2026-12-06 04:00:00.000000

The trends page read a copy of the counts renewed every day, so two days' pages could be subtracted to show one
case arriving, changed or purged. It now reads releases: a mission's closed calendar year, copied once a month
after it ends and never rewritten (domain/trends.py). The table holds mission data: row-level security scopes
it as ctm0027 scopes the published counts. The daily copy is no release: it goes, and ``published_at`` with it,
so the job's next count releases every closed year from the counts as they are then (the page says nothing is
published until then). Downgrading drops the releases; the published copy stays, as the older job renews it.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0033'
down_revision = 'ctm0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_trend_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('published_at', UTCDateTime(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_trend_release'))
    )
    with op.batch_alter_table('ctm_trend_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_trend_release_mission_code'), ['mission_code'], unique=False)
    row_security('ctm_trend_release', MISSION_SCOPE)
    op.execute("DELETE FROM ctm_trend_published")
    op.execute("UPDATE ctm_trend_refresh SET published_at = NULL")


def downgrade() -> None:
    op.drop_table('ctm_trend_release')
