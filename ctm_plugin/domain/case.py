"""The counter-trafficking case and what the CTM records about the person (HTCDS ``cas_``, ``prs_``, ``vic_``).

The host owns the beneficiary's identity (names, documents, nationality); the CTM keeps only
what the host does not hold, and one sealed copy of the person's names (``ctm_person.name``) that the
re-trafficking matching job alone opens (domain/retrafficking.py): it compares people across missions in
one process, where asking each mission's host for every record at each run would not do.
``docs/caseworkers.md`` says which side owns which field.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, sealed_type


class Case(MissionScoped, Base):
    __tablename__ = "ctm_case"
    __table_args__ = (
        UniqueConstraint("mission_code", "case_number"),
        UniqueConstraint("mission_code", "beneficiary_id"),
        # What the case's rows refer to (models.in_the_case_mission): the case in its mission.
        UniqueConstraint("id", "mission_code"),
        # The case list's keyset paging (services/case_list.py): the sort key then the id; an owner's cases ("My
        # cases", an owner filter) in the default order too; the case number's order is the constraint above.
        Index("ix_ctm_case_opened", "mission_code", "opened_on", "id"),
        Index("ix_ctm_case_updated", "mission_code", "updated_at", "id"),
        Index("ix_ctm_case_owner", "mission_code", "owner", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(40))
    beneficiary_id: Mapped[str] = mapped_column(String(40))
    """The host's ``BeneficiaryId``: the only link to the host record."""
    status: Mapped[str] = mapped_column(String(20), default="Active")
    status_reason_sealed: Mapped[str | None] = mapped_column("status_reason", sealed_type())
    status_reason = Sealed()
    close_reason: Mapped[str | None] = mapped_column(String(40))
    """Why the case was closed (``closure_reason`` code list); cleared when it is reopened."""
    owner: Mapped[str] = mapped_column(String(80))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))

    person: Mapped[PersonProfile | None] = relationship(back_populates="case", cascade="all, delete-orphan")
    victim: Mapped[VictimContext | None] = relationship(back_populates="case", cascade="all, delete-orphan")
    handovers: Mapped[list[CaseHandover]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseHandover.at"
    )

    __mapper_args__ = {"version_id_col": version}


PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class CaseClosure(MissionScoped, Base):
    """A caseworker's request to close a case, where the mission wants a supervisor's approval first.

    The case closes when a supervisor other than the requester approves; a refusal says why. At most
    one request of a case is pending at a time.
    """

    __tablename__ = "ctm_case_closure"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20))
    """The closing status asked for (``Closed`` or ``ClosedReferred``)."""
    reason: Mapped[str] = mapped_column(String(40))
    note_sealed: Mapped[str] = mapped_column("note", sealed_type())
    note = Sealed()
    closed_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default=PENDING, index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_sealed: Mapped[str | None] = mapped_column("refusal", sealed_type())
    refusal = Sealed()


class CaseHandover(Base):
    """A case passing from one mission to another (e.g. to the mission of origin after a return).

    The trail travels with the case; the hand-over itself (moving the case and its rows to
    the receiving mission) comes with the return flow.
    """

    __tablename__ = "ctm_case_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ctm_case.id", ondelete="CASCADE"), index=True)
    from_mission: Mapped[str] = mapped_column(String(8))
    to_mission: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(80))
    reason_sealed: Mapped[str | None] = mapped_column("reason", sealed_type())
    reason = Sealed(mission="from_mission")

    case: Mapped[Case] = relationship(back_populates="handovers")


class PersonProfile(MissionScoped, Base):
    """HTCDS ``prs_`` fields the host does not hold."""

    __tablename__ = "ctm_person"
    __table_args__ = (in_the_case_mission(),)

    case_id: Mapped[int] = mapped_column(primary_key=True)
    gender: Mapped[str | None] = mapped_column(String(40))
    marital_status: Mapped[str | None] = mapped_column(String(40))
    education: Mapped[str | None] = mapped_column(String(60))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    citizenships: Mapped[list[str]] = mapped_column(JSON, default=list)
    number_of_children: Mapped[int | None] = mapped_column(Integer)
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_date_precision: Mapped[str] = mapped_column(String(10), default="Unknown")
    name_sealed: Mapped[str | None] = mapped_column("name", sealed_type(200))
    name = Sealed()
    """The person's names as the host last gave them (given, middle, family), sealed under the mission's key;
    written when the host's record is read, opened only by the re-trafficking matching job, shown nowhere."""

    case: Mapped[Case] = relationship(back_populates="person")


class VictimContext(MissionScoped, Base):
    """HTCDS ``vic_``: the person as a (possible) victim in this case."""

    __tablename__ = "ctm_victim_context"
    __table_args__ = (in_the_case_mission(),)

    case_id: Mapped[int] = mapped_column(primary_key=True)
    trafficking_status: Mapped[str | None] = mapped_column(String(40))
    status_decided_by: Mapped[str | None] = mapped_column(String(40))
    age_first_trafficked: Mapped[int | None] = mapped_column(Integer)
    recruitment_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    control_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    exploitation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    labour_industry: Mapped[str | None] = mapped_column(String(60))
    sexual_exploitation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    recruiter_relationship: Mapped[str | None] = mapped_column(String(20))

    case: Mapped[Case] = relationship(back_populates="victim")
