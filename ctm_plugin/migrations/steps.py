"""Steps more than one CTM migration takes, written once (migrations import them; they stay stable)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from ctm_plugin.security import crypto

log = logging.getLogger(__name__)

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


class SealedColumn(NamedTuple):
    """A column whose values a migration seals (up) or opens back (down), as it is at that revision."""

    table: str
    column: str
    mission: str
    """The column naming the mission whose key seals the value."""
    json: bool
    """A JSON document at the revision before (``json`` on PostgreSQL): read as its text."""
    unopened: str | None
    """What a value that cannot be opened becomes on the way down (it was unreadable already)."""


def _sealed_rows(conn: sa.Connection, c: SealedColumn) -> list[sa.Row]:
    """The column's values to seal or open, as text: an empty text stays as it is (domain/sealed.py)."""
    value = f"CAST({c.column} AS TEXT)" if c.json else c.column
    return list(
        conn.execute(
            sa.text(f"SELECT id, {c.mission}, {value} FROM {c.table} WHERE {c.column} IS NOT NULL")  # noqa: S608 - ours
        )
    )


def _write(conn: sa.Connection, c: SealedColumn, row_id: int, value: str | None) -> None:
    conn.execute(sa.text(f"UPDATE {c.table} SET {c.column} = :value WHERE id = :id"), {"value": value, "id": row_id})  # noqa: S608


def _aad(c: SealedColumn, row_id: int, mission: str) -> bytes:
    return crypto.associated_data(c.table, c.column, str(row_id), mission)


def seal_columns(columns: tuple[SealedColumn, ...]) -> None:
    """Seal every plain value of ``columns`` under its row's mission's key, bound to its table, column and row."""
    conn = op.get_bind()
    for c in columns:
        for row_id, mission, value in _sealed_rows(conn, c):
            if value and not crypto.is_sealed(value):
                _write(conn, c, row_id, crypto.seal(value, mission=mission, aad=_aad(c, row_id, mission)))


def open_columns(columns: tuple[SealedColumn, ...]) -> None:
    """Open every sealed value of ``columns`` back to plain text; one whose key is gone takes its stand-in."""
    conn = op.get_bind()
    for c in columns:
        for row_id, mission, token in _sealed_rows(conn, c):
            if not token:
                continue
            value: str | None
            try:
                value = crypto.unseal(token, mission=mission, aad=_aad(c, row_id, mission))
            except crypto.Undecryptable:
                log.warning("%s.%s row %s cannot be opened: left as its stand-in", c.table, c.column, row_id)
                value = c.unopened
            _write(conn, c, row_id, value)
