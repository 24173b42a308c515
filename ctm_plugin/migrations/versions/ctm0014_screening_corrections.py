"""screening corrections: the earlier screening kept, superseded by its correction (with its reason);
a child presumed when the age is unknown but there are reasons to believe it

Service statuses keep their codes (Planned, Ongoing, Completed, Cancelled); only the label of
"Ongoing" reads "Under way", so no row needs mapping.

Revision ID: ctm0014
Revises: ctm0013
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'ctm0014'
down_revision = 'ctm0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.add_column(sa.Column('believed_child', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_ctm_screening_superseded_by_ctm_screening'),
            'ctm_screening', ['superseded_by'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ctm_screening_superseded_by_ctm_screening'), type_='foreignkey')
        batch_op.drop_column('superseded_by')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('believed_child')
