"""case life-cycle: the reason a case was closed, and closure requests awaiting a supervisor

Revision ID: ctm0013
Revises: ctm0012
Create Date: 2026-12-04 18:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0013'
down_revision = 'ctm0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_reason', sa.String(length=40), nullable=True))
    op.create_table('ctm_case_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refusal', sa.Text(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_case_closure_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_case_closure'))
    )
    with op.batch_alter_table('ctm_case_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_case_closure_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_case_closure_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_case_closure_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ctm_case_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_case_closure_state'))
        batch_op.drop_index(batch_op.f('ix_ctm_case_closure_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_case_closure_case_id'))
    op.drop_table('ctm_case_closure')
    # A plain ALTER (SQLite >= 3.35 has DROP COLUMN): batch mode would copy ctm_case and drop the original,
    # and on SQLite that drop deletes, by ON DELETE CASCADE, every row of every case's child tables.
    op.drop_column('ctm_case', 'close_reason')
