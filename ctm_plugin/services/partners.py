"""STAND-IN for the partners' data (issue 15, helper ``partners``): the three functions the partner service
reads partners through, with the agreed signatures, over an in-process registry instead of tables.

The ``partners`` helper's real module (``ctm_partner``, ``ctm_partner_credential``, ``ctm_sharing_agreement``,
``ctm_partner_exchange``; migration ctm0026) replaces this one whole at the merge; nothing but
services/partner_service.py and its tests imports it. Until then a partner exists when a test registers it
(:func:`register`), scoped to its mission as the real tables are by row-level security: a mission's session
finds only that mission's partners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from ctm_plugin.security import audit
from mimosa_host.plugin_api import RequestContext

ACTIVE, SUSPENDED = "active", "suspended"


@dataclass(frozen=True)
class PartnerCredential:
    partner_id: int
    mission_code: str
    username: str
    secrets: tuple[str, ...]
    """Every currently valid secret, in clear (at most two: during a rotation)."""
    partner_status: str


@dataclass(frozen=True)
class Purpose:
    fields: frozenset[str]
    consent: str


@dataclass(frozen=True)
class Agreement:
    version: int
    purposes: dict[str, Purpose]
    valid_from: date
    valid_until: date | None


@dataclass
class _Registry:
    credentials: dict[str, PartnerCredential] = field(default_factory=dict)
    agreements: dict[tuple[str, int], list[Agreement]] = field(default_factory=dict)


_registry = _Registry()


def register(credential: PartnerCredential, *agreements: Agreement) -> None:
    """The stand-in's partner: its credential and its approved agreements (tests only)."""
    _registry.credentials[credential.username] = credential
    _registry.agreements[(credential.mission_code, credential.partner_id)] = list(agreements)


def forget_all() -> None:
    _registry.credentials.clear()
    _registry.agreements.clear()


def credential_for(session: Session, username: str) -> PartnerCredential | None:
    found = _registry.credentials.get(username)
    return found if found is not None and found.mission_code == session.info.get("mission_code") else None


def agreement_in_force(session: Session, partner_id: int, on: date) -> Agreement | None:
    agreements = _registry.agreements.get((session.info.get("mission_code", ""), partner_id), [])
    in_force = [a for a in agreements if a.valid_from <= on and (a.valid_until is None or on <= a.valid_until)]
    return max(in_force, key=lambda a: a.version, default=None)


def record_exchange(
    session: Session,
    ctx: RequestContext,
    partner_id: int,
    direction: str,
    operation: str,
    reference: str,
    agreement_version: int,
    outcome: str,
) -> None:
    """The real one adds a ``ctm_partner_exchange`` row too; the stand-in records the audit event only."""
    audit.record(session, ctx, "partner.exchange", None)
