"""What is due on a case: follow-ups a caseworker sets, and people the host flags for screening.

A screening candidate keeps only the host's ``BeneficiaryId`` and when the pull found the flag:
the person's names stay in the host and are read from it when the list is shown.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, sealed_type


class FollowUp(MissionScoped, Base):
    """Something to do on a case by a day, owned by one of the mission's caseworkers."""

    __tablename__ = "ctm_follow_up"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    due_on: Mapped[date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    note_sealed: Mapped[str] = mapped_column("note", sealed_type())
    note = Sealed()
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_by: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScreeningCandidate(MissionScoped, Base):
    """A host beneficiary flagged with a screening vulnerability who has no case: no name, no detail."""

    __tablename__ = "ctm_screening_candidate"
    __table_args__ = (UniqueConstraint("mission_code", "beneficiary_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(String(40))
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dismissed_by: Mapped[str | None] = mapped_column(String(80))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismiss_reason_sealed: Mapped[str | None] = mapped_column("dismiss_reason", sealed_type())
    dismiss_reason = Sealed()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
