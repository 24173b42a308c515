"""Assistance services, consent per purpose, and referrals in and out."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, sealed_type


class AssistanceService(MissionScoped, Base):
    __tablename__ = "ctm_service"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(120))
    provider_type: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    notes_sealed: Mapped[str | None] = mapped_column("notes", sealed_type())
    notes = Sealed()


class Consent(MissionScoped, Base):
    """Consent for one purpose, with the 7 HTCDS consent items; withdrawal keeps the row."""

    __tablename__ = "ctm_consent"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The consent items (CONSENT_ITEM codes) the person was informed of or agreed to."""
    given_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    interpreter_used: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_reason_sealed: Mapped[str | None] = mapped_column("withdrawal_reason", sealed_type())
    withdrawal_reason = Sealed()

    @property
    def in_force(self) -> bool:
        return self.withdrawn_on is None


SENT, ACCEPTED, DECLINED, COMPLETED = "sent", "accepted", "declined", "completed"
ANSWERS = {ACCEPTED: (SENT,), DECLINED: (SENT,), COMPLETED: (ACCEPTED,)}
"""Each answer a referral may get, and the statuses it may follow."""


class Referral(MissionScoped, Base):
    __tablename__ = "ctm_referral"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(String(10))
    organisation: Mapped[str] = mapped_column(String(120))
    organisation_type: Mapped[str] = mapped_column(String(40))
    referred_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(40))
    case_worker_sealed: Mapped[str | None] = mapped_column("case_worker", sealed_type(120))
    case_worker = Sealed()
    details_sealed: Mapped[str | None] = mapped_column("details", sealed_type())
    details = Sealed()
    recorded_by: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default=SENT, server_default=SENT)
    """``sent`` until the organisation answers: ``accepted`` or ``declined``, then ``completed``."""
    accepted_on: Mapped[date | None] = mapped_column(Date)
    declined_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(80))
