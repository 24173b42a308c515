"""screening corrections: the earlier screening kept, superseded by its correction (with its reason);
a child presumed when the age is unknown but there are reasons to believe it

Service statuses keep their codes (Planned, Ongoing, Completed, Cancelled); only the label of
"Ongoing" reads "Under way", so no row needs mapping.

On SQLite, batch mode copies ``ctm_screening`` and drops the original; that drop sets every
determination's ``screening_id`` to NULL (ON DELETE SET NULL, foreign keys on). Both directions
read those links first and write them back after.

Revision ID: ctm0014
Revises: ctm0013
Create Date: 2026-12-04 19:00:00.000000
"""
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = 'ctm0014'
down_revision = 'ctm0013'
branch_labels = None
depends_on = None


@contextmanager
def _determinations_kept() -> Iterator[None]:
    """The determinations' links to their screenings, as they were before the screening table was rebuilt."""
    conn = op.get_bind()
    links = conn.execute(sa.text("SELECT id, screening_id FROM ctm_determination WHERE screening_id IS NOT NULL")).all()
    yield
    if links:
        conn.execute(
            sa.text("UPDATE ctm_determination SET screening_id = :screening WHERE id = :id"),
            [{"id": row.id, "screening": row.screening_id} for row in links],
        )


def upgrade() -> None:
    with _determinations_kept(), op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.add_column(sa.Column('believed_child', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_ctm_screening_superseded_by_ctm_screening'),
            'ctm_screening', ['superseded_by'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with _determinations_kept(), op.batch_alter_table('ctm_screening', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ctm_screening_superseded_by_ctm_screening'), type_='foreignkey')
        batch_op.drop_column('superseded_by')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('believed_child')
