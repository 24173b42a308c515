"""trends: the published copy of each mission's counts (ctm_trend_published) and when it was made; no counts per
exploitation type any more

Revision ID: ctm0027
Revises: ctm0026
Create Date: 2026-12-06 03:00:00.000000

The trends page reads the counts the job publishes at most once a day, not the hourly recount: a reader must
not watch cases arrive one by one. The table holds mission data (true counts): row-level security scopes it as
ctm0022 scopes the cells. It starts empty and ``published_at`` NULL: the next count publishes. The page has no
exploitation type filter any more (services/trends.py), so the cells of one type go with their column; those of
every type (``exploitation = ''``) stay. Downgrading drops the copy and ``published_at`` and gives the column
back, '' everywhere: the cells of one type are counted again at the next count.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0027'
down_revision = 'ctm0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_trend_published',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=24), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_trend_published'))
    )
    with op.batch_alter_table('ctm_trend_published', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_trend_published_mission_code'), ['mission_code'], unique=False)
    row_security('ctm_trend_published', MISSION_SCOPE)
    with op.batch_alter_table('ctm_trend_refresh', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("DELETE FROM ctm_trend_cell WHERE exploitation <> ''")
    with op.batch_alter_table('ctm_trend_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_ctm_trend_cell_lookup')
        batch_op.drop_column('exploitation')


def downgrade() -> None:
    with op.batch_alter_table('ctm_trend_cell', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exploitation', sa.String(length=40), nullable=False, server_default=''))
        batch_op.create_index('ix_ctm_trend_cell_lookup', ['mission_code', 'dimension', 'exploitation'], unique=False)
    with op.batch_alter_table('ctm_trend_refresh', schema=None) as batch_op:
        batch_op.drop_column('published_at')
    op.drop_table('ctm_trend_published')
