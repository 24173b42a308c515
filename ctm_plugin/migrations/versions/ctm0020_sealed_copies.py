"""the last clear copies of sealed values sealed too: a plan's revisions (the before and after of edited
objectives and reasons), the fund requests' justification and HQ's reason, the outbox's payloads (the person's
names and identity on their way to the host) and the hand-over records (under the receiving mission's key);
on SQLite the file rewritten so that no plaintext stays in it

Revision ID: ctm0020
Revises: ctm0019
Create Date: 2026-12-04 23:00:00.000000

The columns are listed as they are at this revision (a migration never imports today's models);
ctm_plugin/domain/sealed.py says why each is sealed. A JSON document is sealed whole, as its text; on
PostgreSQL its column becomes ``text``. Downgrading opens every value back; one whose key is gone cannot be,
and takes the listed stand-in (it was unreadable already).
"""
import logging
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from ctm_plugin.migrations.steps import rewrite_sqlite_file
from ctm_plugin.security import crypto

revision = 'ctm0020'
down_revision = 'ctm0019'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


class Column(NamedTuple):
    table: str
    column: str
    mission: str
    """The column naming the mission whose key seals the value."""
    json: bool
    """A JSON document at the revision before (``json`` on PostgreSQL)."""
    unopened: str | None
    """What a value that cannot be opened becomes on the way down."""


SEALED = (
    Column('ctm_plan_revision', 'changes', 'mission_code', True, '[]'),
    Column('ctm_fund_request', 'justification', 'mission_code', False, ''),
    Column('ctm_fund_request', 'reason', 'mission_code', False, None),
    Column('ctm_outbox', 'payload', 'mission_code', False, ''),
    Column('ctm_handover', 'record', 'to_mission', True, '{"travel": {}}'),
)


def _rows(conn: sa.Connection, c: Column) -> list[sa.Row]:
    """The column's values to seal or open, as text: an empty text stays as it is (domain/sealed.py)."""
    value = f'CAST({c.column} AS TEXT)' if c.json else c.column
    return list(conn.execute(sa.text(
        f'SELECT id, {c.mission}, {value} FROM {c.table} WHERE {c.column} IS NOT NULL'  # noqa: S608 - names above
    )))


def _write(conn: sa.Connection, c: Column, row_id: int, value: str | None) -> None:
    conn.execute(sa.text(f'UPDATE {c.table} SET {c.column} = :value WHERE id = :id'), {'value': value, 'id': row_id})  # noqa: S608


def _aad(c: Column, row_id: int, mission: str) -> bytes:
    return crypto.associated_data(c.table, c.column, str(row_id), mission)


def _retype(to_text: bool) -> None:
    """PostgreSQL's JSON columns hold the sealed text as ``text``; SQLite keeps the declared type, which it does
    not enforce (no table rebuilt: a rebuild's DROP would cascade to the rows that refer to it)."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    for c in SEALED:
        if c.json:
            new, old, using = (sa.Text(), sa.JSON(), 'text') if to_text else (sa.JSON(), sa.Text(), 'json')
            op.alter_column(c.table, c.column, type_=new, existing_type=old, postgresql_using=f'{c.column}::{using}')



def upgrade() -> None:
    _retype(to_text=True)
    conn = op.get_bind()
    for c in SEALED:
        for row_id, mission, value in _rows(conn, c):
            if value and not crypto.is_sealed(value):
                _write(conn, c, row_id, crypto.seal(value, mission=mission, aad=_aad(c, row_id, mission)))
    rewrite_sqlite_file()


def downgrade() -> None:
    conn = op.get_bind()
    for c in SEALED:
        for row_id, mission, token in _rows(conn, c):
            if not token:
                continue
            value: str | None
            try:
                value = crypto.unseal(token, mission=mission, aad=_aad(c, row_id, mission))
            except crypto.Undecryptable:
                log.warning('%s.%s row %s cannot be opened: left as its stand-in', c.table, c.column, row_id)
                value = c.unopened
            _write(conn, c, row_id, value)
    _retype(to_text=False)
