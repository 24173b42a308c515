"""Palermo screening interviews and the determination history of a case."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, sealed_type


class Screening(MissionScoped, Base):
    """One interview recording the three Palermo elements, and what the rule recommended.

    A correction is a new row; the row it corrects stays, pointing at it (``superseded_by``), so the
    history shows what was recorded first, who corrected it, when and why. The current screenings of
    a case are those not superseded: only they count for a determination.
    """

    __tablename__ = "ctm_screening"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    interview_date: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(120))
    interviewer: Mapped[str] = mapped_column(String(120))
    interpreter_sealed: Mapped[str | None] = mapped_column("interpreter", sealed_type(120))
    interpreter = Sealed()
    language: Mapped[str | None] = mapped_column(String(3))
    age_at_act: Mapped[int | None] = mapped_column(Integer)
    """Age when the act happened; under 18, means are not needed (Palermo art. 3(c))."""
    believed_child: Mapped[bool] = mapped_column(Boolean, default=False)
    """The age is unknown but there are reasons to believe the person is a child: presumed one
    (Council of Europe Convention art. 10(3), Directive 2011/36/EU art. 13(2))."""
    acts: Mapped[list[str]] = mapped_column(JSON, default=list)
    means: Mapped[list[str]] = mapped_column(JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recommendation: Mapped[str] = mapped_column(String(30))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Reason codes of :mod:`ctm_plugin.domain.palermo`, so the text follows the reader's language."""
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    correction_reason_sealed: Mapped[str | None] = mapped_column("correction_reason", sealed_type())
    correction_reason = Sealed()
    """Why this row corrects an earlier one (who and when: ``recorded_by``, ``recorded_at``)."""
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("ctm_screening.id", ondelete="SET NULL"))
    """The correction that replaced this screening; ``None`` while it is current."""


class Determination(MissionScoped, Base):
    """One decision on a case; the rows of a case are its history (who, when, from, to)."""

    __tablename__ = "ctm_determination"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_screening.id", ondelete="SET NULL"))
    previous: Mapped[str | None] = mapped_column(String(30))
    decision: Mapped[str] = mapped_column(String(30))
    reason_sealed: Mapped[str] = mapped_column("reason", sealed_type())
    reason = Sealed()
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
