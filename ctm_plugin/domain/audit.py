"""Audit events: who did or saw what, on which case, when; never the values themselves.

Each mission's events form a chain (security/audit_chain.py): ``seq`` numbers them 1, 2, ... in the
order they commit, and ``hash`` is a keyed hash over the event (its row id and content) and the previous
event's ``hash``. The chain's head row says where the chain ends; a checkpoint says where a purge cut it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, utcnow

HASH_LENGTH = 64
"""HMAC-SHA256 in hexadecimal."""


class AuditEvent(MissionScoped, Base):
    __tablename__ = "ctm_audit_event"
    __table_args__ = (
        # The auditor's filters, newest first: a page of one user's or one action's events reads the
        # index backwards from where it starts (keyset), however long the mission's trail.
        Index("ix_ctm_audit_event_user", "mission_code", "username", "id"),
        Index("ix_ctm_audit_event_action", "mission_code", "action", "id"),
        # One event per place in the mission's chain: two transactions cannot fork it.
        UniqueConstraint("mission_code", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    """A stable code such as ``case.view`` or ``screening.record``."""
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The case's id, kept as a plain number (no foreign key): the event is hashed into the chain, so
    purging the case must not change it, and the trail of a purged case still says which case it was."""
    field_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Which groups of fields were shown or changed (e.g. ``identity``), never their contents."""
    seq: Mapped[int | None] = mapped_column(Integer)
    """The event's place in its mission's chain, from 1, in the order events commit; NULL only until its
    transaction commits (the chain is written then)."""
    prev_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    """The previous event's ``hash`` (or the checkpoint's, or :data:`GENESIS` for the first event)."""
    hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))


class AuditChainHead(MissionScoped, Base):
    """Where a mission's chain ends: its last event's ``seq`` and ``hash``, signed.

    Appending locks this row (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so a mission's
    events are chained one transaction after the other, while other missions append freely. The
    signature (HQ's audit key) lets ``verify`` tell a chain whose last events were deleted from a whole
    one, even when the head row was set back to an earlier event."""

    __tablename__ = "ctm_audit_chain_head"

    mission_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    signature: Mapped[str] = mapped_column(String(HASH_LENGTH))


class AuditCheckpoint(MissionScoped, Base):
    """The signed end of a purged part of a mission's chain: the last purged event's ``seq`` and ``hash``.

    The chain that remains starts right after the latest checkpoint; ``verify`` accepts that boundary
    only when HQ's audit key signed it."""

    __tablename__ = "ctm_audit_checkpoint"
    __table_args__ = (UniqueConstraint("mission_code", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    purged: Mapped[int] = mapped_column(Integer)
    """How many events this purge deleted."""
    before: Mapped[datetime] = mapped_column(UTCDateTime)
    """The purge deleted events older than this."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signature: Mapped[str] = mapped_column(String(HASH_LENGTH))


# Wherever an event can be added, it is chained as its transaction commits: the listeners come with the model.
from ctm_plugin.security import audit_chain  # noqa: E402, F401, I001
