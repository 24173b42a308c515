"""the global emergency fund: HQ's fund, its entries, the missions' requests

Revision ID: ctm0011
Revises: ctm0010
Create Date: 2026-12-04 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0011'
down_revision = 'ctm0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ctm_fund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('max_request', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_fund'))
    )
    op.create_table('ctm_fund_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance_after', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('donor', sa.String(length=120), nullable=True),
    sa.Column('project_code', sa.String(length=40), nullable=True),
    sa.Column('reference', sa.String(length=80), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('request_mission', sa.String(length=8), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_fund_entry'))
    )
    op.create_table('ctm_fund_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('exchange_rate', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('fund_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('fund_currency', sa.String(length=3), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ctm_case.id'], name=op.f('fk_ctm_fund_request_case_id_ctm_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_fund_request'))
    )
    with op.batch_alter_table('ctm_fund_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_fund_request_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_fund_request_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_fund_request_state'), ['state'], unique=False)

    # The one fund, in US dollars, empty, taking requests up to 5000: made here, so that no two first top-ups race to make it.
    fund = sa.table('ctm_fund', sa.column('id', sa.Integer()), sa.column('currency', sa.String()),
                    sa.column('balance', sa.Numeric()), sa.column('max_request', sa.Numeric()),
                    sa.column('version', sa.Integer()))
    op.bulk_insert(fund, [{'id': 1, 'currency': 'USD', 'balance': 0, 'max_request': 5000, 'version': 1}])



def downgrade() -> None:
    with op.batch_alter_table('ctm_fund_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_fund_request_state'))
        batch_op.drop_index(batch_op.f('ix_ctm_fund_request_mission_code'))
        batch_op.drop_index(batch_op.f('ix_ctm_fund_request_case_id'))

    op.drop_table('ctm_fund_request')
    op.drop_table('ctm_fund_entry')
    op.drop_table('ctm_fund')
