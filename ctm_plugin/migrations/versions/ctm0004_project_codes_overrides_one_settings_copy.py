"""project codes on returns, versioned mapping overrides, no copy of the host connection

Revision ID: ctm0004
Revises: ctm0003
Create Date: 2026-12-03 13:50:00.000000

- ``ctm_return.project_code``: the project a return is booked under. Bookings made before are
  left without one (NULL, shown as "—"): they went to the host without it, and the mission's
  project codes live in the host's settings document, which a plugin migration does not read.
- ``ctm_mapping_override``: a mission's override documents, one row per saved version; a
  mission's ``ctm_mission.mapping_overrides`` becomes its revision 1.
- ``ctm_mission`` loses its copy of the connection (``soap_base_url``, ``soap_username``,
  ``soap_password``): the host's settings document is the one copy.

Downgrade puts the newest override back into ``ctm_mission.mapping_overrides``; the connection
cannot be put back (it is not in the plugin's tables): re-save each mission's CTM settings
after a downgrade, which copies it again.
"""
from alembic import op
import sqlalchemy as sa
from datetime import UTC, datetime


revision = 'ctm0004'
down_revision = 'ctm0003'
branch_labels = None
depends_on = None

MIGRATED_BY = 'migration ctm0004'


def upgrade() -> None:
    override = op.create_table('ctm_mapping_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('saved_by', sa.String(length=80), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_mapping_override')),
    sa.UniqueConstraint('mission_code', 'revision', name=op.f('uq_ctm_mapping_override_mission_code_revision'))
    )
    with op.batch_alter_table('ctm_mapping_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_mapping_override_mission_code'), ['mission_code'], unique=False)

    mission = sa.table('ctm_mission', sa.column('mission_code', sa.String), sa.column('mapping_overrides', sa.Text))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(mission.c.mission_code, mission.c.mapping_overrides).where(mission.c.mapping_overrides.is_not(None))
    ).all()
    now = datetime.now(UTC)
    documents = [
        {'mission_code': code, 'revision': 1, 'document': text.strip(), 'saved_by': MIGRATED_BY, 'saved_at': now}
        for code, text in rows
        if text.strip()
    ]
    if documents:
        op.bulk_insert(override, documents)

    with op.batch_alter_table('ctm_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_code', sa.String(length=40), nullable=True))

    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.drop_column('mapping_overrides')
        batch_op.drop_column('soap_password')
        batch_op.drop_column('soap_username')
        batch_op.drop_column('soap_base_url')


def downgrade() -> None:
    with op.batch_alter_table('ctm_mission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('soap_base_url', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('soap_username', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('soap_password', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('mapping_overrides', sa.Text(), nullable=True))

    override = sa.table(
        'ctm_mapping_override',
        sa.column('mission_code', sa.String),
        sa.column('revision', sa.Integer),
        sa.column('document', sa.Text),
    )
    mission = sa.table('ctm_mission', sa.column('mission_code', sa.String), sa.column('mapping_overrides', sa.Text))
    conn = op.get_bind()
    newest = sa.select(override.c.mission_code, sa.func.max(override.c.revision).label('revision')).group_by(
        override.c.mission_code
    ).subquery()
    rows = conn.execute(
        sa.select(override.c.mission_code, override.c.document).join(
            newest,
            sa.and_(newest.c.mission_code == override.c.mission_code, newest.c.revision == override.c.revision),
        )
    ).all()
    for code, document in rows:
        conn.execute(
            mission.update().where(mission.c.mission_code == code).values(mapping_overrides=document or None)
        )

    with op.batch_alter_table('ctm_return', schema=None) as batch_op:
        batch_op.drop_column('project_code')

    with op.batch_alter_table('ctm_mapping_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_mapping_override_mission_code'))

    op.drop_table('ctm_mapping_override')
