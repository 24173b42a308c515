"""job outcomes: how each mission's periodic jobs last ended

Revision ID: ctm0006
Revises: ctm0003
Create Date: 2026-12-03 13:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0006'
down_revision = 'ctm0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_job_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('fields', sa.String(length=200), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_job_outcome')),
    sa.UniqueConstraint('mission_code', 'job', name=op.f('uq_ctm_job_outcome_mission_code_job'))
    )
    with op.batch_alter_table('ctm_job_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_job_outcome_mission_code'), ['mission_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ctm_job_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_job_outcome_mission_code'))

    op.drop_table('ctm_job_outcome')
