"""One writer at a time for what the host numbers itself: new record ids (one above the
highest) and the change feed (``seq``, which must commit in order: see :mod:`.movements`).

The lock is held until the transaction ends. PostgreSQL: a transaction-scoped advisory lock.
SQLite: an UPDATE that changes nothing but opens the write transaction now (its driver would
otherwise start it only at the first INSERT, after the reads); SQLite has one writer at a
time, and what the transaction reads from then on includes every earlier commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

LOCK_KEY = 0x4D4F5645  # "MOVE"


def serialize_writes(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:
        session.execute(sa.text("UPDATE movement_change SET seq = seq WHERE 1 = 0"))
