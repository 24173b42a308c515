"""the audit chain: every event linked to the previous one of its mission; the chain's head; checkpoints

Existing events are chained per mission in id order (the order they were written). ``case_id`` becomes a
plain number, no longer a foreign key set to NULL when a case is deleted: it is hashed into the chain,
and a purge of cases must not change the events. Downgrading drops the chain; an event whose case is
gone by then gets NULL again, as the foreign key requires.

Revision ID: ctm0019
Revises: ctm0016
Create Date: 2026-12-04 22:00:00.000000
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from ctm_plugin.domain.models import UTCDateTime
from ctm_plugin.migrations.steps import MISSION_SCOPE, row_security
from ctm_plugin.security import audit_chain


revision = 'ctm0019'
down_revision = 'ctm0018'
branch_labels = None
depends_on = None

BATCH = 1000
EVENTS = sa.table(
    'ctm_audit_event',
    sa.column('id', sa.Integer), sa.column('mission_code', sa.String), sa.column('at', UTCDateTime()),
    sa.column('username', sa.String), sa.column('action', sa.String), sa.column('case_id', sa.Integer),
    sa.column('field_groups', sa.JSON), sa.column('seq', sa.Integer), sa.column('prev_hash', sa.String),
    sa.column('hash', sa.String),
)
HEADS = sa.table(
    'ctm_audit_chain_head',
    sa.column('mission_code', sa.String), sa.column('seq', sa.Integer), sa.column('hash', sa.String),
    sa.column('signature', sa.String),
)


def _chain_existing_events() -> None:
    """Each mission's events in id order, linked; the mission's head at its last event."""
    connection = op.get_bind()
    key = audit_chain.audit_key()
    missions = connection.execute(sa.select(EVENTS.c.mission_code).distinct()).scalars().all()
    for mission in sorted(missions):
        seq, last, after = 0, audit_chain.GENESIS, 0
        while True:
            rows = connection.execute(
                sa.select(EVENTS).where(EVENTS.c.mission_code == mission, EVENTS.c.id > after)
                .order_by(EVENTS.c.id).limit(BATCH)
            ).all()
            links = []
            for row in rows:
                seq += 1
                content = dict(row._mapping) | {'seq': seq, 'prev_hash': last, 'field_groups': list(row.field_groups or ())}
                last = audit_chain.event_hash(key, SimpleNamespace(**content))
                links.append({'b_id': row.id, 'seq': seq, 'prev_hash': content['prev_hash'], 'hash': last})
            if links:
                connection.execute(
                    EVENTS.update().where(EVENTS.c.id == sa.bindparam('b_id'))
                    .values(seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev_hash'), hash=sa.bindparam('hash')),
                    links,
                )
            if len(rows) < BATCH:
                break
            after = rows[-1].id
        connection.execute(HEADS.insert().values(
            mission_code=mission, seq=seq, hash=last, signature=audit_chain.head_signature(key, mission, seq, last)
        ))


def upgrade() -> None:
    op.create_table('ctm_audit_chain_head',
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('mission_code', name=op.f('pk_ctm_audit_chain_head'))
    )
    op.create_table('ctm_audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('purged', sa.Integer(), nullable=False),
    sa.Column('before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('mission_code', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ctm_audit_checkpoint')),
    sa.UniqueConstraint('mission_code', 'seq', name=op.f('uq_ctm_audit_checkpoint_mission_code_seq'))
    )
    with op.batch_alter_table('ctm_audit_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ctm_audit_checkpoint_mission_code'), ['mission_code'], unique=False)
    for table in ('ctm_audit_chain_head', 'ctm_audit_checkpoint'):  # mission data: scoped as ctm0017 scopes it
        row_security(table, MISSION_SCOPE)

    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.drop_constraint('fk_ctm_audit_event_case_id_ctm_case', type_='foreignkey')
    _chain_existing_events()
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_ctm_audit_event_mission_code_seq'), ['mission_code', 'seq'])


def downgrade() -> None:
    op.execute(
        "UPDATE ctm_audit_event SET case_id = NULL WHERE case_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM ctm_case WHERE ctm_case.id = ctm_audit_event.case_id)"
    )
    with op.batch_alter_table('ctm_audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_ctm_audit_event_mission_code_seq'), type_='unique')
        batch_op.create_foreign_key(
            batch_op.f('fk_ctm_audit_event_case_id_ctm_case'), 'ctm_case', ['case_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('ctm_audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ctm_audit_checkpoint_mission_code'))

    op.drop_table('ctm_audit_checkpoint')
    op.drop_table('ctm_audit_chain_head')
