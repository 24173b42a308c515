"""Partners of a mission (issue 15): organisations that send and receive referrals by machine, their credentials,
their sharing agreements and what was exchanged with them.

Every row is the mission's (:class:`MissionScoped`): the mission administrator manages its partners. A partner
is ``active`` or ``suspended`` (at once: a suspended partner's credentials are refused by the partner service).

A credential is a username and a secret for the partner service's UsernameToken digest (the digest needs the
secret itself, so it is sealed, never hashed: :mod:`ctm_plugin.domain.sealed`). The username is unique across the
plugin (it names the partner, and so the mission, before anything else is known). A credential is valid from its
issue until it is retired; a partner holds at most :data:`MAX_VALID_CREDENTIALS` valid ones, so that a rotation
issues the new one, the partner switches over, and the old one is retired, with no moment without a valid one.

A sharing agreement says what the partner may send and receive: per purpose (:data:`PURPOSES`), the fields allowed
(names of :data:`SHAREABLE_FIELDS`) and the consent purpose the person must have given. Its ``document`` is that
JSON (validated by :class:`ctm_plugin.schemas.partners.AgreementDocumentSchema`), versioned per partner (1, 2, ...).
A draft takes effect only once approved by HQ (``ctm.agreement.approve``), never by whoever drafted it; approving
a version supersedes the partner's earlier approved ones. An exchange keeps the version it was made under.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ctm_plugin.i18n import N_

from .models import Base, MissionScoped, UTCDateTime, utcnow
from .sealed import SealedText, sealed_type

NGO, SHELTER, GOVERNMENT, LAW_ENFORCEMENT, IOM_MISSION = "NGO", "Shelter", "Government", "LawEnforcement", "IomMission"
KINDS = (NGO, SHELTER, GOVERNMENT, LAW_ENFORCEMENT, IOM_MISSION)
"""``IomMission``: an IOM mission on another host instance only (missions of this host hand over directly)."""

ACTIVE, SUSPENDED = "active", "suspended"

MAX_VALID_CREDENTIALS = 2
"""Two during a changeover: the new one issued, the old one not yet retired."""

REFERRAL_ASSISTANCE, REFERRAL_LAW_ENFORCEMENT, HAND_OVER, FOLLOW_UP = (
    "ReferralAssistance",
    "ReferralLawEnforcement",
    "HandOver",
    "FollowUp",
)
PURPOSES = (REFERRAL_ASSISTANCE, REFERRAL_LAW_ENFORCEMENT, HAND_OVER, FOLLOW_UP)

DRAFT, APPROVED, SUPERSEDED = "draft", "approved", "superseded"

INBOUND, OUTBOUND = "in", "out"

SHAREABLE_FIELDS: dict[str, str] = {
    # the person
    "person.given_name": N_("Given name"),
    "person.family_name": N_("Family name"),
    "person.birth_date": N_("Date of birth"),
    "person.sex": N_("Sex"),
    "person.citizenship": N_("Citizenship"),
    "person.languages": N_("Languages spoken"),
    "person.phone": N_("Telephone number"),
    "person.current_location": N_("Where the person is now"),
    # the case
    "case.identified_on": N_("Date of identification"),
    "case.trafficking_status": N_("Trafficking status"),
    "case.exploitation_types": N_("Types of exploitation"),
    "case.country_of_exploitation": N_("Country of exploitation"),
    "case.is_child": N_("Whether the person is a child"),
    # the referral
    "referral.needs": N_("Needs of the person"),
    "referral.services_requested": N_("Services requested"),
    "referral.urgency": N_("Urgency"),
    "referral.reason": N_("Reason for the referral"),
    "referral.risk_notes": N_("Risks to the person"),
    # a follow-up
    "follow_up.status": N_("Status of the assistance"),
    "follow_up.services_provided": N_("Services provided"),
    "follow_up.next_contact": N_("Date of the next contact"),
    "follow_up.note": N_("Follow-up note"),
}
"""Every field name an agreement may allow, with its label: nothing outside an agreement's allow-list for the
purpose ever leaves or enters, and an allow-list holds only these names."""


class Partner(MissionScoped, Base):
    __tablename__ = "ctm_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    """The organisation's name (organisations' names stay plain, as providers' do)."""
    kind: Mapped[str] = mapped_column(String(20))
    contact: Mapped[str] = mapped_column(Text)
    """The organisation's focal point: a desk, an e-mail address, a telephone number."""
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """An optimistic lock: of two changes read at the same version, the second to commit is refused."""

    __mapper_args__ = {"version_id_col": version}


class Credential(MissionScoped, Base):
    __tablename__ = "ctm_partner_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    secret_sealed: Mapped[str] = mapped_column("secret", sealed_type(200))
    secret = SealedText()
    """The UsernameToken's password, sealed under the mission's key; shown once, when issued."""
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When it was retired; ``None`` while it is valid."""
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_by: Mapped[str | None] = mapped_column(String(80))


class SharingAgreement(MissionScoped, Base):
    __tablename__ = "ctm_sharing_agreement"
    __table_args__ = (UniqueConstraint("partner_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    """The agreement's version for its partner: 1, 2, ... in the order they were drafted."""
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``{"purposes": {purpose: {"fields": [name, ...], "consent": consent purpose}}}``."""
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT, index=True)
    drafted_by: Mapped[str] = mapped_column(String(80))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerExchange(MissionScoped, Base):
    """One exchange with a partner, whatever its outcome (a refusal too): what, when, under which version."""

    __tablename__ = "ctm_partner_exchange"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    direction: Mapped[str] = mapped_column(String(3))
    operation: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100))
    """The partner's own reference of what was exchanged (never a name)."""
    agreement_version: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
