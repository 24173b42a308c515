"""Preparing a voluntary return: the checklist a mission requires before a booking, with the
children's safeguards and HQ's decision on a high-risk return.

A preparation belongs to the return being prepared: it has no booking until the return is
booked, then it is the booking's. The next return (after one ended) starts a new preparation.
The rules here are pure: what is missing, and whether the person is a child on a given day.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ctm_plugin.i18n import N_

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .palermo import ADULT_AGE
from .sealed import Sealed, sealed_type

DOCUMENT_KINDS = {"PASSPORT": N_("Passport"), "LAISSEZ_PASSER": N_("Laissez-passer")}
RISK_LEVELS = {"LOW": N_("Low"), "MEDIUM": N_("Medium"), "HIGH": N_("High")}
FAMILY_ASSESSMENTS = {"POSITIVE": N_("Positive"), "NEGATIVE": N_("Negative")}
BID_OUTCOMES = {
    "RETURN": N_("Return is in the child's best interests"),
    "NO_RETURN": N_("Return is not in the child's best interests"),
}
RISK_DECISIONS = {"APPROVED": N_("Approved"), "REFUSED": N_("Refused")}


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    missing: str
    """What a refused booking says when the item is not done (msgid)."""
    default: bool = False
    """Required by a mission whose settings do not say otherwise."""


ITEMS = (
    Item("counselling", N_("Pre-departure counselling"), N_("Pre-departure counselling is not recorded."), True),
    Item(
        "travel_document",
        N_("Travel document"),
        N_("No travel document valid on the day of departure is recorded."),
        True,
    ),
    Item("fitness", N_("Fitness to travel"), N_("The person is not recorded as fit to travel."), True),
    Item("escort", N_("Escort need"), N_("The escort need is not recorded.")),
    Item("risk", N_("Risk assessment"), N_("The risk assessment of the return is not recorded."), True),
    Item("family_tracing", N_("Family tracing"), N_("Family tracing is not recorded.")),
    Item("family_assessment", N_("Family assessment"), N_("The family assessment is not recorded.")),
    Item(
        "consent_return",
        N_("Consent to return"),
        N_("The person's consent to a voluntary return is not in force."),
        True,
    ),
    Item(
        "consent_handover", N_("Consent to the hand-over"), N_("The person's consent to the hand-over is not in force.")
    ),
)
ITEM_CODES = tuple(item.code for item in ITEMS)
CONSENT_MISSING = frozenset(item.missing for item in ITEMS if item.code in ("consent_return", "consent_handover"))
"""What a refused booking says about consents: said at the booking form's consent line, not in its checklist."""
ALWAYS = frozenset({"consent_return"})
"""Required whatever the mission's settings say: no return without the person's consent."""

RISK_PENDING = N_("A high-risk return waits for HQ's decision.")
RISK_REFUSED = N_("HQ refused this high-risk return.")
BID_MISSING = N_("A child: the best-interests determination is not recorded.")
BID_AGAINST = N_("A child: the best-interests determination found the return not in the child's best interests.")
CARE_MISSING = N_("A child: a positive family assessment or an alternative care arrangement is needed.")
ESCORT_MISSING = N_("A child: a named escort is needed.")


class ReturnPreparation(MissionScoped, Base):
    """One return's checklist; ``return_id`` is set when the return is booked.

    The travel document is an identity field (``ctm.identity.view``). Consents are not kept here:
    the checklist reads whether they are in force on the Consent tab.
    """

    __tablename__ = "ctm_return_preparation"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_return.id"), unique=True)
    planned_departure: Mapped[date | None] = mapped_column(Date)
    destination_country: Mapped[str | None] = mapped_column(String(3))
    counselled_on: Mapped[date | None] = mapped_column(Date)
    document_kind: Mapped[str | None] = mapped_column(String(16))
    document_number_sealed: Mapped[str | None] = mapped_column("document_number", sealed_type(40))
    document_number = Sealed(index="document_number")
    document_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    """The document number's blind index (HQ's index key): exact-match search without the number."""
    document_expiry: Mapped[date | None] = mapped_column(Date)
    fit_to_travel: Mapped[bool] = mapped_column(Boolean, default=False)
    escort: Mapped[str | None] = mapped_column(String(12))
    escort_name_sealed: Mapped[str | None] = mapped_column("escort_name", sealed_type(120))
    escort_name = Sealed()
    risk_level: Mapped[str | None] = mapped_column(String(8))
    risk_reason_sealed: Mapped[str | None] = mapped_column("risk_reason", sealed_type())
    risk_reason = Sealed()
    family_traced: Mapped[bool] = mapped_column(Boolean, default=False)
    family_assessment: Mapped[str | None] = mapped_column(String(10))
    alternative_care_sealed: Mapped[str | None] = mapped_column("alternative_care", sealed_type())
    alternative_care = Sealed()
    signs_of_minority: Mapped[bool] = mapped_column(Boolean, default=False)
    """Age unknown, but the person looks or says they are under 18: presumed a child."""
    bid_outcome: Mapped[str | None] = mapped_column(String(10))
    bid_reason_sealed: Mapped[str | None] = mapped_column("bid_reason", sealed_type())
    bid_reason = Sealed()
    bid_on: Mapped[date | None] = mapped_column(Date)
    bid_by: Mapped[str | None] = mapped_column(String(80))
    risk_decision: Mapped[str | None] = mapped_column(String(10))
    """HQ's decision on a high-risk return; cleared when the risk assessment changes."""
    risk_decision_reason_sealed: Mapped[str | None] = mapped_column("risk_decision_reason", sealed_type())
    risk_decision_reason = Sealed()
    risk_decided_by: Mapped[str | None] = mapped_column(String(80))
    risk_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def youngest_birth(birth_date: date, precision: str | None) -> date:
    """The latest day a birth date of that precision may stand for: in doubt, the younger age."""
    if precision == "Year":
        return date(birth_date.year, 12, 31)
    if precision == "Month":
        return birth_date.replace(day=calendar.monthrange(birth_date.year, birth_date.month)[1])
    return birth_date


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_child(birth_date: date | None, precision: str | None, signs_of_minority: bool, on: date) -> bool:
    """Under 18 on ``on`` (the earliest departure); of unknown age, a child when signs say so.

    The same line as the Palermo rule's (:data:`palermo.ADULT_AGE`); a birth date known only to the
    month or year is read as its last day, so a doubt goes to the child's side.
    """
    if birth_date is None or precision == "Unknown":
        return signs_of_minority
    return age_on(youngest_birth(birth_date, precision), on) < ADULT_AGE


def missing_items(
    prep: ReturnPreparation | None,
    required: Collection[str],
    *,
    child: bool,
    departure: date,
    consents: Collection[str],
) -> list[str]:
    """What stands between this preparation and a booking departing on ``departure`` (msgids, in order)."""
    p = prep or ReturnPreparation()
    done = {
        "counselling": p.counselled_on is not None,
        "travel_document": bool(
            p.document_kind and p.document_number and p.document_expiry and p.document_expiry >= departure
        ),
        "fitness": bool(p.fit_to_travel),
        "escort": p.escort is not None,
        "risk": p.risk_level is not None,
        "family_tracing": bool(p.family_traced),
        "family_assessment": p.family_assessment is not None,
        "consent_return": "Return" in consents,
        "consent_handover": "HandOver" in consents,
    }
    missing = [item.missing for item in ITEMS if (item.code in required or item.code in ALWAYS) and not done[item.code]]
    if p.risk_level == "HIGH" and p.risk_decision != "APPROVED":
        missing.append(RISK_REFUSED if p.risk_decision == "REFUSED" else RISK_PENDING)
    if child:
        if p.bid_outcome is None:
            missing.append(BID_MISSING)
        elif p.bid_outcome != "RETURN":
            missing.append(BID_AGAINST)
        if p.family_assessment != "POSITIVE" and not p.alternative_care:
            missing.append(CARE_MISSING)
        if not p.escort_name or p.escort == "NONE":
            missing.append(ESCORT_MISSING)
    return missing
