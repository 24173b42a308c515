"""the CTM's sensitive fields sealed at rest: every existing value sealed under its mission's key, the
document numbers' blind index filled, and on SQLite the file rewritten so that no plaintext stays in it

Revision ID: ctm0018
Revises: ctm0016
Create Date: 2026-12-04 22:00:00.000000

The columns are listed here as they are at this revision (a migration never imports today's models);
ctm_plugin/domain/sealed.py says why each is sealed. PostgreSQL's bounded ones become ``text``
(ciphertext is longer); SQLite keeps the declared length, which it does not enforce. Downgrading opens
every value back; a value whose key is gone cannot be, and becomes empty (it was unreadable already).
"""
import logging

import sqlalchemy as sa
from alembic import op

from ctm_plugin.migrations.steps import rewrite_sqlite_file
from ctm_plugin.security import crypto

revision = 'ctm0018'
down_revision = 'ctm0017'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

SEALED: dict[str, dict[str, tuple[int | None, bool]]] = {
    # table: {column: (its length before, nullable)}; None: it was text already
    'ctm_case': {'status_reason': (None, True)},
    'ctm_case_closure': {'note': (None, False), 'refusal': (None, True)},
    'ctm_screening': {'interpreter': (120, True), 'correction_reason': (None, True)},
    'ctm_determination': {'reason': (None, False)},
    'ctm_event': {'notes': (None, True)},
    'ctm_perpetrator': {'alias': (120, True), 'notes': (None, True)},
    'ctm_service': {'notes': (None, True)},
    'ctm_consent': {'withdrawal_reason': (None, True)},
    'ctm_referral': {'case_worker': (120, True), 'details': (None, True)},
    'ctm_follow_up': {'note': (None, False)},
    'ctm_screening_candidate': {'dismiss_reason': (None, True)},
    'ctm_reception': {
        'received_by': (120, True),
        'immediate_needs': (None, True),
        'shelter_placement': (None, True),
        'family_contact': (None, True),
    },
    'ctm_monitoring_visit': {'missed_reason': (None, True), 'notes': (None, True)},
    'ctm_return_preparation': {
        'document_number': (40, True),
        'escort_name': (120, True),
        'risk_reason': (None, True),
        'alternative_care': (None, True),
        'bid_reason': (None, True),
        'risk_decision_reason': (None, True),
    },
    'ctm_plan_element': {'objective': (None, False), 'status_reason': (None, True)},
    'ctm_disbursement': {'purpose': (None, True), 'reason': (None, True), 'override_reason': (None, True)},
    'ctm_ledger_entry': {'reason': (None, True)},
}
INDEX = 'ix_ctm_return_preparation_document_number_index'


def _rows(conn: sa.Connection, table: str, column: str) -> list[sa.Row]:
    """The column's values to seal or open: an empty text stays as it is (domain/sealed.py)."""
    return list(conn.execute(
        sa.text(f"SELECT id, mission_code, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''")  # noqa: S608 - names above
    ))


def _write(conn: sa.Connection, table: str, column: str, row_id: int, value: str | None) -> None:
    conn.execute(sa.text(f'UPDATE {table} SET {column} = :value WHERE id = :id'), {'value': value, 'id': row_id})  # noqa: S608


def _aad(table: str, column: str, row_id: int, mission: str) -> bytes:
    return crypto.associated_data(table, column, str(row_id), mission)


def _widen(to_text: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite enforces no VARCHAR length: nothing to rebuild
    for table, columns in SEALED.items():
        for column, (length, _nullable) in columns.items():
            if length is not None:
                new, old = (sa.Text(), sa.String(length)) if to_text else (sa.String(length), sa.Text())
                op.alter_column(table, column, type_=new, existing_type=old)



def upgrade() -> None:
    with op.batch_alter_table('ctm_return_preparation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_number_index', sa.String(length=64), nullable=True))
        batch_op.create_index(INDEX, ['document_number_index'], unique=False)
    _widen(to_text=True)
    conn = op.get_bind()
    for table, columns in SEALED.items():
        for column in columns:
            for row_id, mission, value in _rows(conn, table, column):
                if not crypto.is_sealed(value):
                    _write(conn, table, column, row_id, crypto.seal(value, mission=mission, aad=_aad(table, column, row_id, mission)))
                    if column == 'document_number':
                        conn.execute(
                            sa.text('UPDATE ctm_return_preparation SET document_number_index = :index WHERE id = :id'),
                            {'index': crypto.blind_index(value, 'document_number'), 'id': row_id},
                        )
    rewrite_sqlite_file()


def downgrade() -> None:
    conn = op.get_bind()
    for table, columns in SEALED.items():
        for column, (_length, nullable) in columns.items():
            for row_id, mission, token in _rows(conn, table, column):
                value: str | None
                try:
                    value = crypto.unseal(token, mission=mission, aad=_aad(table, column, row_id, mission))
                except crypto.Undecryptable:
                    log.warning('%s.%s row %s cannot be opened: left empty', table, column, row_id)
                    value = None if nullable else ''
                _write(conn, table, column, row_id, value)
    _widen(to_text=False)
    with op.batch_alter_table('ctm_return_preparation', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column('document_number_index')
