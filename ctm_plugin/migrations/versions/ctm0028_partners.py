"""partners: organisations of a mission, their credentials, sharing agreements and exchanges

Revision ID: ctm0028
Revises: ctm0027
Create Date: 2026-12-06 02:50:00.000000

Four new tables of mission data, scoped as ctm0017 scopes the others. On PostgreSQL, partners and their
credentials have a second policy, for SELECT only: a transaction that sets ``ctm.partner_lookup`` reads them
across missions, so that the partner service finds a UsernameToken's username (and so its mission) before any
mission is known (services/partners.py ``credential_for`` sets it for one statement). Writes stay the mission's.
Downgrading drops the tables with their rows.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.domain.sealed import sealed_type
from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0028'
down_revision = 'ctm0027'
branch_labels = None
depends_on = None

LOOKUP_POLICY = "ctm_partner_lookup"
LOOKUP = "current_setting('ctm.partner_lookup', true) = 'on'"
LOOKED_UP = ("ctm_partner", "ctm_partner_credential")


def upgrade() -> None:
    op.create_table('ctm_partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('contact', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('suspended_at', UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_partner'))
    )
    with op.batch_alter_table('ctm_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_partner_mission_code'), ['mission_code'], unique=False)

    op.create_table('ctm_partner_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('secret', sealed_type(200), nullable=False),
    sa.Column('valid_from', UTCDateTime(), nullable=False),
    sa.Column('valid_until', UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('retired_by', sa.String(length=80), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_partner_credential_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_partner_credential')),
    sa.UniqueConstraint('username', name=op.f('uq_ctm_partner_credential_username'))
    )
    with op.batch_alter_table('ctm_partner_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_partner_credential_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_partner_credential_partner_id'), ['partner_id'], unique=False)

    op.create_table('ctm_sharing_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('drafted_by', sa.String(length=80), nullable=False),
    sa.Column('drafted_at', UTCDateTime(), nullable=False),
    sa.Column('approved_by', sa.String(length=80), nullable=True),
    sa.Column('approved_at', UTCDateTime(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_sharing_agreement_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_sharing_agreement')),
    sa.UniqueConstraint('partner_id', 'version', name=op.f('uq_ctm_sharing_agreement_partner_id_version'))
    )
    with op.batch_alter_table('ctm_sharing_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_sharing_agreement_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_sharing_agreement_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_sharing_agreement_status'), ['status'], unique=False)

    op.create_table('ctm_partner_exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('agreement_version', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_partner_exchange_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_partner_exchange'))
    )
    with op.batch_alter_table('ctm_partner_exchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_partner_exchange_mission_code'), ['mission_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ctm_partner_exchange_partner_id'), ['partner_id'], unique=False)

    for table in ('ctm_partner', 'ctm_partner_credential', 'ctm_sharing_agreement', 'ctm_partner_exchange'):
        row_security(table, MISSION_SCOPE)
    if op.get_bind().dialect.name == "postgresql":
        for table in LOOKED_UP:
            op.execute(f"CREATE POLICY {LOOKUP_POLICY} ON {table} FOR SELECT USING ({LOOKUP})")


def downgrade() -> None:
    op.drop_table('ctm_partner_exchange')
    op.drop_table('ctm_sharing_agreement')
    op.drop_table('ctm_partner_credential')
    op.drop_table('ctm_partner')
