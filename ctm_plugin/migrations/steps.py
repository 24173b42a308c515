"""Steps more than one CTM migration takes, written once (migrations import them; they stay stable)."""

from __future__ import annotations

from alembic import op

POLICY = "ctm_scope"
MISSION_SCOPE = "mission_code = current_setting('ctm.mission', true)"
"""The row-level security condition of a table with mission data: the transaction's mission only."""


def row_security(table: str, condition: str) -> None:
    """On PostgreSQL, ENABLE and FORCE row-level security on ``table`` (FORCE: its owner too) with one policy."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})")


def rewrite_sqlite_file() -> None:
    """VACUUM rewrites the whole file (the plaintext left in freed pages and cells goes with it), and the
    checkpoint empties the write-ahead log, which held the pages as they were. The CTM does it itself: a
    host need not scrub its database after migrating."""
    if op.get_bind().dialect.name == "sqlite":
        with op.get_context().autocommit_block():
            op.execute("VACUUM")
            op.execute("PRAGMA wal_checkpoint(TRUNCATE)")
