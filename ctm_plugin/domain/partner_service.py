"""What partners send through the partner service (adapters/partner_service.py), kept in the receiving mission.

- :class:`PartnerNonce`: every authenticated request's WS-Security nonce, for replay protection (a nonce is
  refused again within :data:`NONCE_KEPT`) and the rate limit per partner (the nonces of the last minute);
  pruned as requests come in.
- :class:`InboundReferral`: a referral a partner submitted, pending until a caseworker accepts it into a case or
  declines it with a reason (which the partner reads back through ``GetReferralStatus``): the mission's inbox
  (services/referral_inbox.py). Its payload (the
  fields the agreement allows, no more) is sealed under the mission's key; its hash makes a resubmission of the
  same reference idempotent and one with another payload refused.
- :class:`PartnerFollowUp`: a follow-up report on a referral the partner made, sealed likewise.

``partner_id`` is the partner's row of ``ctm_partner`` (domain/partners.py, a foreign key), in the same mission.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, utcnow
from .sealed import Sealed, SealedJson, sealed_document_type, sealed_type

PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"
REFERRAL_STATES = (PENDING, ACCEPTED, DECLINED)
ON_NO_RECORD = "REFERRAL-"
"""A case opened for a referral stands on ``REFERRAL-<referral id>`` until it is linked to the host's record (as a
hand-over's stands on domain/handover.py's ``HANDOVER-``)."""

NONCE_WINDOW = timedelta(minutes=5)
"""How far a message's ``Created`` may be from the clock."""
NONCE_KEPT = 2 * NONCE_WINDOW
"""How long a nonce is remembered: every ``Created`` still accepted is covered."""


def unreadable_payload(notice: str) -> dict[str, Any]:
    """A payload that cannot be opened reads as the notice, in no field of the partner's."""
    return {"unreadable": notice}


class PartnerNonce(MissionScoped, Base):
    __tablename__ = "ctm_partner_nonce"
    __table_args__ = (
        UniqueConstraint("username", "nonce"),
        Index("ix_ctm_partner_nonce_partner_seen", "mission_code", "partner_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"))
    username: Mapped[str] = mapped_column(String(80))
    nonce: Mapped[str] = mapped_column(String(100))
    """Base64, as sent."""
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class InboundReferral(MissionScoped, Base):
    __tablename__ = "ctm_inbound_referral"
    __table_args__ = (
        UniqueConstraint("mission_code", "partner_id", "partner_reference", name="uq_ctm_inbound_referral_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"), index=True)
    partner_reference: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(40))
    payload_sealed: Mapped[str] = mapped_column("payload", sealed_document_type())
    payload = SealedJson(unreadable=unreadable_payload)
    """The fields as sent, by name (only those the agreement allows for the purpose)."""
    payload_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the purpose and fields in one canonical form: the same request sent again has the same."""
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    decline_reason_sealed: Mapped[str | None] = mapped_column("decline_reason", sealed_type())
    decline_reason = Sealed()
    """Why the mission declined: sent back to the partner."""
    agreement_version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The case of this mission the referral was accepted into (services/referral_inbox.py)."""
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Two caseworkers deciding at once: the second one's write finds another version, and nothing of it is saved."""

    __mapper_args__ = {"version_id_col": version}


class PartnerFollowUp(MissionScoped, Base):
    __tablename__ = "ctm_partner_followup"
    __table_args__ = (
        UniqueConstraint("mission_code", "partner_id", "partner_reference", name="uq_ctm_partner_followup_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ctm_partner.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("ctm_inbound_referral.id", ondelete="CASCADE"), index=True)
    partner_reference: Mapped[str] = mapped_column(String(64))
    payload_sealed: Mapped[str] = mapped_column("payload", sealed_document_type())
    payload = SealedJson(unreadable=unreadable_payload)
    payload_hash: Mapped[str] = mapped_column(String(64))
    agreement_version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
