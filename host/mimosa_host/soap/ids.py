"""Host-assigned record ids: ``BEN-0nnnnnn`` and ``MOV-0nnnnnn``.

The demo's records are ``BEN-1…``, ``BEN-2…`` and ``BEN-3…`` (one digit per mission); the
host's own start with 0, so the two never meet. The next id is one above the highest, read
under the write lock of :mod:`.locks`, so two transactions cannot pick the same one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from .locks import serialize_writes


def next_id(session: Session, column: InstrumentedAttribute[str], prefix: str) -> str:
    serialize_writes(session)
    last = session.scalar(
        sa.select(column)
        .where(column.startswith(f"{prefix}-0", autoescape=True))
        .order_by(sa.func.length(column).desc(), column.desc())
        .limit(1)
    )
    number = int(last.removeprefix(f"{prefix}-")) + 1 if last else 1
    return f"{prefix}-0{number:06d}"
