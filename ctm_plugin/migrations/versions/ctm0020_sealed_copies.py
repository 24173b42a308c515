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
import sqlalchemy as sa
from alembic import op

from ctm_plugin.migrations.steps import SealedColumn as Column
from ctm_plugin.migrations.steps import open_columns, rewrite_sqlite_file, seal_columns

revision = 'ctm0020'
down_revision = 'ctm0019'
branch_labels = None
depends_on = None

SEALED = (
    Column('ctm_plan_revision', 'changes', 'mission_code', True, '[]'),
    Column('ctm_fund_request', 'justification', 'mission_code', False, ''),
    Column('ctm_fund_request', 'reason', 'mission_code', False, None),
    Column('ctm_outbox', 'payload', 'mission_code', False, ''),
    Column('ctm_handover', 'record', 'to_mission', True, '{"travel": {}}'),
)


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
    seal_columns(SEALED)
    rewrite_sqlite_file()


def downgrade() -> None:
    open_columns(SEALED)
    _retype(to_text=False)
