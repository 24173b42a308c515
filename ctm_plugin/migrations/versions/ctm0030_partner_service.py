"""the partner service: nonces, inbound referrals and follow-ups partners send

Revision ID: ctm0030
Revises: ctm0029
Create Date: 2026-12-06 02:45:00.000000

Three new tables of mission data, scoped as ctm0017 scopes the others (row-level security on PostgreSQL).
The payloads are sealed from the first row on (domain/partner_service.py): nothing to seal here. Downgrading
drops them with what partners sent.
"""
from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.domain.sealed import sealed_document_type, sealed_type
from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security

revision = 'ctm0030'
down_revision = 'ctm0029'
branch_labels = None
depends_on = None

TABLES = ('ctm_partner_nonce', 'ctm_inbound_referral', 'ctm_partner_followup')


def upgrade() -> None:
    op.create_table('ctm_partner_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('seen_at', UTCDateTime(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_partner_nonce_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_partner_nonce')),
    sa.UniqueConstraint('username', 'nonce', name=op.f('uq_ctm_partner_nonce_username_nonce'))
    )
    op.create_index(op.f('ix_ctm_partner_nonce_mission_code'), 'ctm_partner_nonce', ['mission_code'])
    op.create_index(op.f('ix_ctm_partner_nonce_seen_at'), 'ctm_partner_nonce', ['seen_at'])
    op.create_index('ix_ctm_partner_nonce_partner_seen', 'ctm_partner_nonce', ['mission_code', 'partner_id', 'seen_at'])
    op.create_table('ctm_inbound_referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('partner_reference', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('payload', sealed_document_type(), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decline_reason', sealed_type(), nullable=True),
    sa.Column('agreement_version', sa.Integer(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_inbound_referral_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_inbound_referral')),
    sa.UniqueConstraint('mission_code', 'partner_id', 'partner_reference',
                        name='uq_ctm_inbound_referral_reference')
    )
    op.create_index(op.f('ix_ctm_inbound_referral_mission_code'), 'ctm_inbound_referral', ['mission_code'])
    op.create_index(op.f('ix_ctm_inbound_referral_partner_id'), 'ctm_inbound_referral', ['partner_id'])
    op.create_table('ctm_partner_followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('partner_reference', sa.String(length=64), nullable=False),
    sa.Column('payload', sealed_document_type(), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('agreement_version', sa.Integer(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['ctm_inbound_referral.id'],
                            name=op.f('fk_ctm_partner_followup_referral_id_ctm_inbound_referral'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['ctm_partner.id'], name=op.f('fk_ctm_partner_followup_partner_id_ctm_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_partner_followup')),
    sa.UniqueConstraint('mission_code', 'partner_id', 'partner_reference',
                        name='uq_ctm_partner_followup_reference')
    )
    op.create_index(op.f('ix_ctm_partner_followup_mission_code'), 'ctm_partner_followup', ['mission_code'])
    op.create_index(op.f('ix_ctm_partner_followup_partner_id'), 'ctm_partner_followup', ['partner_id'])
    op.create_index(op.f('ix_ctm_partner_followup_referral_id'), 'ctm_partner_followup', ['referral_id'])
    for table in TABLES:
        row_security(table, MISSION_SCOPE)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
