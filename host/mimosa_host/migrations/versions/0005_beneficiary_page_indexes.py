"""indexes for FindBeneficiaries: its pages walked in an index, a page's documents found by beneficiary

Revision ID: 0005_beneficiary_pages
Revises: 0004_secrets_at_rest
Create Date: 2026-12-05 04:10:00.000000

- ``ix_beneficiary_mission_page`` (mission_code, last_modified, beneficiary_id): one mission's
  beneficiaries in the order FindBeneficiaries answers them, so that a page is read from the
  index in order (no sort of the mission's records, no table row read for the rows skipped).
- ``ix_beneficiary_document_beneficiary_id``: a page's documents, and a beneficiary's, read
  without scanning every document (the foreign key had no index).

Indexes only: no row changes, up or down.
"""
from alembic import op


revision = '0005_beneficiary_pages'
down_revision = '0004_secrets_at_rest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(
            'ix_beneficiary_mission_page', ['mission_code', 'last_modified', 'beneficiary_id'], unique=False
        )
    with op.batch_alter_table('beneficiary_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_document_beneficiary_id'), ['beneficiary_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('beneficiary_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_document_beneficiary_id'))
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index('ix_beneficiary_mission_page')
