"""The hand-over between missions: two cases, one per mission, joined by a hand-over record.

The destination mission (where the person was identified) proposes; the mission of origin
accepts (its own case opens, filled from the record) or declines. Hand-over rows and their
history carry both missions and are the only CTM rows two missions see; everything else stays
in its mission. The record is an allow-list: nothing of the exploitation, the perpetrators or the
screening can enter it (:data:`RECORD_FIELDS`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BetweenMissions, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, SealedJson, sealed_document_type, sealed_type

PROPOSED, ACCEPTED, DECLINED = "proposed", "accepted", "declined"
STATES = (PROPOSED, ACCEPTED, DECLINED)
OPEN_STATES = (PROPOSED, ACCEPTED)
"""A case has at most one hand-over in these states; after a decline another may be proposed."""

RECORD_FIELDS = (
    "family_name",
    "given_name",
    "sex",
    "birth_date",
    "languages",
    "travel",
    "medical_needs",
    "shelter_needs",
    "security_needs",
    "escort",
    "contact",
)
"""Everything a hand-over record may hold, and all the mission of origin learns of the case."""
TRAVEL_FIELDS = (
    "origin_country",
    "origin_location",
    "destination_country",
    "destination_location",
    "earliest_departure",
    "movement_id",
    "legs",
)
"""What the record holds of the return's travel."""


def allowed(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` cut down to the allow-list: a field not named there never reaches the other mission."""
    kept = {name: record.get(name) for name in RECORD_FIELDS}
    kept["travel"] = {name: (record.get("travel") or {}).get(name) for name in TRAVEL_FIELDS}
    return kept


def unreadable_record(notice: str) -> dict[str, Any]:
    """What a record that cannot be opened shows: the notice in place of the family name, nothing else."""
    return allowed({"family_name": notice})


ON_NO_RECORD = "HANDOVER-"
"""What the case a mission opens on accepting a hand-over stands on (with the hand-over's id) until it is
linked to the person's record in that mission's host."""


class Handover(BetweenMissions, Base):
    """One proposed hand-over of a case from ``from_mission`` to ``to_mission``, and where it stands."""

    __tablename__ = "ctm_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ctm_case.id", ondelete="CASCADE"), index=True)
    """The proposing mission's case: an id only that mission can open."""
    return_id: Mapped[int] = mapped_column(ForeignKey("ctm_return.id", ondelete="CASCADE"), index=True)
    """The return booking the hand-over follows; its arrival (the host's feed) is the hand-over's."""
    record_sealed: Mapped[str] = mapped_column("record", sealed_document_type())
    record = SealedJson(unreadable=unreadable_record, mission="to_mission")
    """The minimal hand-over record (:data:`RECORD_FIELDS`), as proposed: sealed under the receiving mission's
    key, which opens its case from it (the proposing mission's tab shows it too, opened with that key)."""
    child: Mapped[bool] = mapped_column(Boolean, default=False)
    """A child's hand-over: only the receiving mission's child-protection user accepts it."""
    state: Mapped[str] = mapped_column(String(12), default=PROPOSED)
    decline_reason_sealed: Mapped[str | None] = mapped_column("decline_reason", sealed_type())
    decline_reason = Sealed(mission="from_mission")
    """Why the receiving mission declined, under the proposing mission's key: the case stays that mission's."""
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receiving_case_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_case.id"))
    """The receiving mission's own case, opened at acceptance: an id only that mission can open."""
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the host's feed reported the return ``ARRIVED``."""
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class HandoverEvent(BetweenMissions, Base):
    """One step of a hand-over, seen by both missions: who did what, when, from which mission."""

    __tablename__ = "ctm_handover_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("ctm_handover.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(String(20))
    """``proposed``, ``accepted``, ``declined``, ``arrived``, ``received``."""
    by: Mapped[str] = mapped_column(String(80))
    by_mission: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason_sealed: Mapped[str | None] = mapped_column("reason", sealed_type())
    reason = Sealed(mission="from_mission")
    """A decline's reason, under the proposing mission's key, as :attr:`Handover.decline_reason`."""


class ReceptionTask(MissionScoped, Base):
    """The receiving mission's reception of the person on arrival: one per hand-over."""

    __tablename__ = "ctm_reception"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("ctm_handover.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arrived_on: Mapped[date | None] = mapped_column(Date)
    arrival_place: Mapped[str | None] = mapped_column(String(120))
    received_by_sealed: Mapped[str | None] = mapped_column("received_by", sealed_type(120))
    received_by = Sealed()
    immediate_needs_sealed: Mapped[str | None] = mapped_column("immediate_needs", sealed_type())
    immediate_needs = Sealed()
    shelter_placement_sealed: Mapped[str | None] = mapped_column("shelter_placement", sealed_type())
    shelter_placement = Sealed()
    family_contact_sealed: Mapped[str | None] = mapped_column("family_contact", sealed_type())
    family_contact = Sealed()
    recorded_by: Mapped[str | None] = mapped_column(String(80))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
