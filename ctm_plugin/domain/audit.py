"""Audit events: who did or saw what, on which case, when; never the values themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, utcnow


class AuditEvent(MissionScoped, Base):
    __tablename__ = "ctm_audit_event"
    __table_args__ = (
        # The auditor's filters, newest first: a page of one user's or one action's events reads the
        # index backwards from where it starts (keyset), however long the mission's trail.
        Index("ix_ctm_audit_event_user", "mission_code", "username", "id"),
        Index("ix_ctm_audit_event_action", "mission_code", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    """A stable code such as ``case.view`` or ``screening.record``."""
    case_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_case.id", ondelete="SET NULL"), index=True)
    field_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Which groups of fields were shown or changed (e.g. ``identity``), never their contents."""
