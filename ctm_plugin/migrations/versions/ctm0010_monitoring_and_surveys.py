"""monitoring: start dates, visits with their sustainability surveys, missions' scoring models

Revision ID: ctm0010
Revises: ctm0009
Create Date: 2026-12-04 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0010'
down_revision = 'ctm0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_monitoring_start',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('set_by', sa.String(length=80), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_monitoring_start_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_monitoring_start')),
    sa.UniqueConstraint('case_id', name=op.f('uq_ctm_monitoring_start_case_id'))
    )
    with op.batch_alter_table('ctm_monitoring_start', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_monitoring_start_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_monitoring_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('schedule_month', sa.SmallInteger(), nullable=True),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('missed_reason', sa.Text(), nullable=True),
    sa.Column('risks', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('model_key', sa.String(length=40), nullable=True),
    sa.Column('model_version', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('overall', sa.Numeric(precision=3, scale=2), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_monitoring_visit_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_monitoring_visit'))
    )
    with op.batch_alter_table('ctm_monitoring_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_monitoring_visit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_monitoring_visit_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_scoring_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('model_key', sa.String(length=40), nullable=True),
    sa.Column('model_version', sa.Integer(), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('saved_by', sa.String(length=80), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_scoring_model')),
    sa.UniqueConstraint('mission_code', 'revision', name=op.f('uq_ctm_scoring_model_mission_code_revision'))
    )
    with op.batch_alter_table('ctm_scoring_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_scoring_model_mission_code'), ['mission_code'], unique=False)


def downgrade() -> None:
    op.drop_table('ctm_scoring_model')
    op.drop_table('ctm_monitoring_visit')
    op.drop_table('ctm_monitoring_start')
