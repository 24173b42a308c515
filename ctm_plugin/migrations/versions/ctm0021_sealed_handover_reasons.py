"""a declined hand-over's reason sealed too (the hand-over and its step, rows both missions see) and the older
case trail's reason, under the proposing mission's key; on SQLite the file rewritten so that no plaintext stays

Revision ID: ctm0021
Revises: ctm0020
Create Date: 2026-12-05 04:00:00.000000

The columns were ``text`` already: nothing is retyped. Downgrading opens every value back; one whose key is gone
cannot be, and becomes empty (it was unreadable already).
"""
from ctm_plugin.migrations.steps import SealedColumn as Column
from ctm_plugin.migrations.steps import open_columns, rewrite_sqlite_file, seal_columns

revision = 'ctm0021'
down_revision = 'ctm0020'
branch_labels = None
depends_on = None

SEALED = (
    Column('ctm_handover', 'decline_reason', 'from_mission', False, None),
    Column('ctm_handover_event', 'reason', 'from_mission', False, None),
    Column('ctm_case_handover', 'reason', 'from_mission', False, None),
)


def upgrade() -> None:
    seal_columns(SEALED)
    rewrite_sqlite_file()


def downgrade() -> None:
    open_columns(SEALED)
