"""Use cases of partners (issue 15): the mission administrator's partners, their credentials and sharing
agreements, HQ's approval of an agreement, and what the partner service reads and records.

The mission administrator (``ctm.partner.manage``) adds a partner, changes its details, suspends it (at once: the
partner service refuses a suspended partner's credentials) and resumes it, issues a credential (the secret is
returned once, and never shown again) and retires one, and drafts an agreement (a new version; the partner's
open draft is rewritten instead while HQ has not approved it). HQ (``ctm.agreement.approve``) sees the drafts of
every mission of its scope, read mission by mission, and approves one, never one it drafted itself (even holding
both permissions); approving supersedes the partner's earlier approved versions.

For the partner service (the machine side), exactly:

- :func:`credential_for`: who a UsernameToken's username is, before any mission is known;
- :func:`agreement_in_force`: the approved agreement of a partner on a day, its document validated again;
- :func:`record_exchange`: an exchange (accepted or refused) in the partner's mission, audited there.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partners import (
    ACTIVE,
    APPROVED,
    DRAFT,
    INBOUND,
    MAX_VALID_CREDENTIALS,
    OUTBOUND,
    SUPERSEDED,
    SUSPENDED,
    Credential,
    Partner,
    PartnerExchange,
    SharingAgreement,
)
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.partners import (
    SUSPEND,
    AgreementDocumentSchema,
    AgreementFormSchema,
    PartnerEditSchema,
    PartnerSchema,
    PartnerStatusSchema,
)
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import AGREEMENT_APPROVE, PARTNER_MANAGE
from mimosa_host.plugin_api import MissionRef, RequestContext

from .base import Conflict, NotFound, load, require, unit_of_work

log = logging.getLogger(__name__)

FIELD_GROUP = "partners"
SECRET_BYTES = 32
"""A secret's randomness: 256 bits, written as 43 URL-safe characters."""
RECENT_EXCHANGES = 200
"""How many of a partner's exchanges its page shows, newest first."""


class PartnerChanged(Conflict):
    message = N_("Someone else changed this partner meanwhile: nothing was saved. Reload the page to see the change.")


class TooManyCredentials(Conflict):
    message = N_(
        "This partner has two valid credentials already: retire the old one once the partner uses the new one, "
        "then issue another. Nothing was saved."
    )


class CredentialRetired(Conflict):
    message = N_("This credential was retired already.")


class OwnDraft(Conflict):
    message = N_("You drafted this agreement: another HQ approver approves it. Nothing was saved.")


class AgreementDrafted(Conflict):
    message = N_(
        "Someone else drafted an agreement with this partner meanwhile: nothing was saved. Reload the page to see it."
    )


class NotADraft(Conflict):
    message = N_("This agreement is not a draft any more: nothing was saved. Reload the page to see it.")


# -- for the partner service --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerCredential:
    """A username's partner, as the partner service needs it to check a UsernameToken digest."""

    partner_id: int
    mission_code: str
    username: str
    secrets: tuple[str, ...]
    """Every currently valid secret of the username, in clear (a username is one credential: one secret; a
    rotation issues a new username beside it, so that both are valid during the changeover)."""
    partner_status: str


@dataclass(frozen=True)
class Purpose:
    fields: frozenset[str]
    """The field names (:data:`ctm_plugin.domain.partners.SHAREABLE_FIELDS`) allowed for the purpose."""
    consent: str
    """The consent purpose (``consent_purpose`` code list) the person must have given."""


@dataclass(frozen=True)
class Agreement:
    version: int
    purposes: dict[str, Purpose]
    valid_from: date
    valid_until: date


_LOOKUP_ON = sa.text("SELECT set_config('ctm.partner_lookup', 'on', true)")
_LOOKUP_OFF = sa.text("SELECT set_config('ctm.partner_lookup', '', true)")


@contextmanager
def _credential_lookup(session: Session) -> Iterator[None]:
    """On PostgreSQL, lets ``session``'s transaction read partners and their credentials of any mission
    (ctm0028's SELECT-only policy ``ctm_partner_lookup``) for the statements inside, and no longer."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(_LOOKUP_ON)
    try:
        yield
    finally:
        if postgres:
            session.execute(_LOOKUP_OFF)


def _valid(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Credential.valid_from <= now, sa.or_(Credential.valid_until.is_(None), Credential.valid_until > now))


def credential_for(session: Session, username: str) -> PartnerCredential | None:
    """The partner a UsernameToken's username names, with its valid secrets; ``None`` for an unknown username or
    a retired credential. ``session`` is a session of no mission (the mission is what this finds out): on
    PostgreSQL it reads across missions through ctm0028's lookup policy for this one statement."""
    with _credential_lookup(session):
        found = session.execute(
            sa.select(Credential, Partner.status)
            .join(Partner, Partner.id == Credential.partner_id)
            .where(Credential.username == username, _valid(utcnow()))
        ).first()
    if found is None:
        return None
    credential, status = found
    return PartnerCredential(
        credential.partner_id, credential.mission_code, credential.username, (credential.secret,), status
    )


def _agreement(row: SharingAgreement) -> Agreement | None:
    try:
        document = AgreementDocumentSchema().load(row.document)
    except ValidationError:
        log.warning(
            "sharing agreement %s version %s of %s is not valid: not in force", row.id, row.version, row.mission_code
        )
        return None
    purposes = {
        name: Purpose(frozenset(purpose["allowed"]), purpose["consent"])
        for name, purpose in document["purposes"].items()
    }
    return Agreement(row.version, purposes, row.valid_from, row.valid_until)


def agreement_in_force(session: Session, partner_id: int, on: date) -> Agreement | None:
    """The partner's approved agreement whose dates include ``on`` (the latest version, if several); ``None``
    when there is none, or its document does not validate (then nothing is shared). ``session``: the partner's
    mission's."""
    row = session.scalar(
        sa.select(SharingAgreement)
        .where(
            SharingAgreement.partner_id == partner_id,
            SharingAgreement.status == APPROVED,
            SharingAgreement.valid_from <= on,
            SharingAgreement.valid_until >= on,
        )
        .order_by(SharingAgreement.version.desc())
        .limit(1)
    )
    return None if row is None else _agreement(row)


def has_approved_agreement(session: Session, partner_id: int) -> bool:
    """Whether the partner has an approved agreement at all, in force today or not: the partner service tells a
    request outside its dates from one with no agreement. ``session``: the partner's mission's."""
    return (
        session.scalar(
            sa.select(SharingAgreement.id)
            .where(SharingAgreement.partner_id == partner_id, SharingAgreement.status == APPROVED)
            .limit(1)
        )
        is not None
    )


def record_exchange(
    session: Session,
    ctx: RequestContext,
    partner_id: int,
    direction: str,
    operation: str,
    reference: str | None,
    agreement_version: int | None,
    outcome: str,
) -> None:
    """An exchange with the partner (``direction`` ``in`` or ``out``), accepted or refused, in ``ctx``'s mission
    with the agreement's version it was made under, and its audit event; the caller's transaction commits both."""
    if direction not in (INBOUND, OUTBOUND):
        raise ValueError(f"an exchange is {INBOUND!r} or {OUTBOUND!r}, not {direction!r}")
    session.add(
        PartnerExchange(
            mission_code=ctx.mission.code,
            partner_id=partner_id,
            at=utcnow(),
            direction=direction,
            operation=operation,
            reference=reference,
            agreement_version=agreement_version,
            outcome=outcome,
        )
    )
    audit.record(session, ctx, "partner.exchange", None, [FIELD_GROUP])


# -- the mission administrator's side ---------------------------------------------------------------------------


def partners_of_mission(ctx: RequestContext) -> list[Partner]:
    """The mission's partners, by name."""
    require(ctx, PARTNER_MANAGE)
    with unit_of_work(ctx) as session:
        rows = list(session.scalars(sa.select(Partner).order_by(Partner.name, Partner.id)))
        audit.record(session, ctx, "partners.view", None, [FIELD_GROUP])
        session.flush()
        session.expunge_all()
        return rows


def add_partner(ctx: RequestContext, data: dict[str, Any]) -> int:
    require(ctx, PARTNER_MANAGE)
    values = load(PartnerSchema(), data)
    with unit_of_work(ctx) as session:
        partner = Partner(mission_code=ctx.mission.code, status=ACTIVE, created_by=actor(ctx), **values)
        session.add(partner)
        session.flush()
        audit.record(session, ctx, "partner.add", None, [FIELD_GROUP])
        return partner.id


@dataclass(frozen=True)
class PartnerFile:
    """What the partner's page shows: the partner, its credentials (no secret), its agreements (newest first)
    and its latest exchanges."""

    partner: Partner
    credentials: list[Credential]
    agreements: list[SharingAgreement]
    exchanges: list[PartnerExchange]

    @property
    def draft(self) -> SharingAgreement | None:
        return next((a for a in self.agreements if a.status == DRAFT), None)


def _partner(session: Session, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound
    return partner


def partner_file(ctx: RequestContext, partner_id: int) -> PartnerFile:
    require(ctx, PARTNER_MANAGE)
    with unit_of_work(ctx) as session:
        partner = _partner(session, partner_id)
        credentials = list(
            session.scalars(
                sa.select(Credential).where(Credential.partner_id == partner_id).order_by(Credential.id.desc())
            )
        )
        agreements = list(
            session.scalars(
                sa.select(SharingAgreement)
                .where(SharingAgreement.partner_id == partner_id)
                .order_by(SharingAgreement.version.desc())
            )
        )
        exchanges = list(
            session.scalars(
                sa.select(PartnerExchange)
                .where(PartnerExchange.partner_id == partner_id)
                .order_by(PartnerExchange.at.desc(), PartnerExchange.id.desc())
                .limit(RECENT_EXCHANGES)
            )
        )
        audit.record(session, ctx, "partner.view", None, [FIELD_GROUP])
        session.flush()
        session.expunge_all()
        return PartnerFile(partner, credentials, agreements, exchanges)


@contextmanager
def _changing(partner: Partner, version: int) -> Iterator[None]:
    """A change of the partner read at ``version``: refused if it moved on meanwhile (here, or at commit)."""
    if partner.version != version:
        raise PartnerChanged
    try:
        yield
    except StaleDataError:
        raise PartnerChanged from None


def edit_partner(ctx: RequestContext, partner_id: int, data: dict[str, Any]) -> None:
    require(ctx, PARTNER_MANAGE)
    values = load(PartnerEditSchema(), data)
    version = values.pop("version")
    with unit_of_work(ctx) as session:
        partner = _partner(session, partner_id)
        with _changing(partner, version):
            for name, value in values.items():
                setattr(partner, name, value)
            audit.record(session, ctx, "partner.edit", None, [FIELD_GROUP])
            session.flush()


def set_status(ctx: RequestContext, partner_id: int, data: dict[str, Any]) -> str:
    """Suspend the partner (its credentials are refused from this commit on) or resume it; the new status."""
    require(ctx, PARTNER_MANAGE)
    values = load(PartnerStatusSchema(), data)
    with unit_of_work(ctx) as session:
        partner = _partner(session, partner_id)
        with _changing(partner, values["version"]):
            suspend = values["action"] == SUSPEND
            partner.status = SUSPENDED if suspend else ACTIVE
            partner.suspended_at = utcnow() if suspend else None
            audit.record(session, ctx, "partner.suspend" if suspend else "partner.resume", None, [FIELD_GROUP])
            session.flush()
        return partner.status


def issue_credential(ctx: RequestContext, partner_id: int) -> tuple[str, str]:
    """A new credential of the partner, valid at once: its (username, secret), the one time the secret is
    given. Refused while the partner holds :data:`MAX_VALID_CREDENTIALS` valid ones. The partner's row is
    changed too (its version), so that of two issues at once the second is refused, not a third credential."""
    require(ctx, PARTNER_MANAGE)
    with unit_of_work(ctx) as session:
        partner = _partner(session, partner_id)
        now = utcnow()
        valid = session.scalar(
            sa.select(sa.func.count()).select_from(Credential).where(Credential.partner_id == partner_id, _valid(now))
        )
        if (valid or 0) >= MAX_VALID_CREDENTIALS:
            raise TooManyCredentials
        with _changing(partner, partner.version):
            flag_modified(partner, "status")  # the row written under its version: a concurrent issue is refused
            username = f"ctm-{ctx.mission.code.lower()}-{secrets.token_hex(6)}"
            secret = secrets.token_urlsafe(SECRET_BYTES)
            session.add(
                Credential(
                    mission_code=ctx.mission.code,
                    partner_id=partner_id,
                    username=username,
                    secret=secret,
                    valid_from=now,
                    created_by=actor(ctx),
                )
            )
            audit.record(session, ctx, "partner.credential.issue", None, [FIELD_GROUP])
            session.flush()
        return username, secret


def retire_credential(ctx: RequestContext, partner_id: int, credential_id: int) -> None:
    """Retire a credential at once: the partner service refuses it from this commit on."""
    require(ctx, PARTNER_MANAGE)
    with unit_of_work(ctx) as session:
        credential = session.get(Credential, credential_id)
        if credential is None or credential.partner_id != partner_id:
            raise NotFound
        if credential.valid_until is not None and credential.valid_until <= utcnow():
            raise CredentialRetired
        credential.valid_until, credential.retired_by = utcnow(), actor(ctx)
        audit.record(session, ctx, "partner.credential.retire", None, [FIELD_GROUP])


def draft_agreement(ctx: RequestContext, partner_id: int, data: dict[str, Any]) -> int:
    """The partner's agreement drafted: its open draft rewritten, or a new version; the version. It takes
    effect only once HQ approves it."""
    require(ctx, PARTNER_MANAGE)
    values = load(AgreementFormSchema(), data)
    with unit_of_work(ctx) as session:
        _partner(session, partner_id)
        draft = session.scalar(
            sa.select(SharingAgreement).where(
                SharingAgreement.partner_id == partner_id, SharingAgreement.status == DRAFT
            )
        )
        if draft is None:
            latest = session.scalar(
                sa.select(sa.func.max(SharingAgreement.version)).where(SharingAgreement.partner_id == partner_id)
            )
            draft = SharingAgreement(
                mission_code=ctx.mission.code, partner_id=partner_id, version=(latest or 0) + 1, status=DRAFT
            )
            session.add(draft)
        draft.document, draft.valid_from, draft.valid_until = (
            values["document"],
            values["valid_from"],
            values["valid_until"],
        )
        draft.drafted_by, draft.drafted_at = actor(ctx), utcnow()
        audit.record(session, ctx, "agreement.draft", None, [FIELD_GROUP])
        try:
            session.flush()
        except sa.exc.IntegrityError:  # another draft took the version meanwhile (two first drafts at once)
            raise AgreementDrafted from None
        return draft.version


# -- HQ's side --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HqDraft:
    mission: MissionRef
    partner: Partner
    agreement: SharingAgreement
    in_force: SharingAgreement | None
    """The partner's approved version the draft would supersede, to compare."""


def hq_drafts(ctx: RequestContext) -> list[HqDraft]:
    """The drafts of every mission of HQ's scope for approvals, oldest first, each mission's reading audited."""
    require(ctx, AGREEMENT_APPROVE)
    found: list[HqDraft] = []
    for mission in ctx.missions_with(AGREEMENT_APPROVE):
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            drafts = list(session.scalars(sa.select(SharingAgreement).where(SharingAgreement.status == DRAFT)))
            for draft in drafts:
                in_force = session.scalar(
                    sa.select(SharingAgreement)
                    .where(SharingAgreement.partner_id == draft.partner_id, SharingAgreement.status == APPROVED)
                    .order_by(SharingAgreement.version.desc())
                    .limit(1)
                )
                found.append(HqDraft(mission, _partner(session, draft.partner_id), draft, in_force))
            audit.record(session, mctx, "agreements.view", None, [FIELD_GROUP])
            session.flush()
            session.expunge_all()
    return sorted(found, key=lambda h: (h.agreement.drafted_at, h.mission.code, h.agreement.id))


def approve_agreement(ctx: RequestContext, mission_code: str, agreement_id: int) -> int:
    """HQ approves a draft of a mission of its scope, never its own: it takes effect (its dates permitting) and
    supersedes the partner's earlier approved versions. Returns the version."""
    require(ctx, AGREEMENT_APPROVE)
    if mission_code not in {m.code for m in ctx.missions_with(AGREEMENT_APPROVE)}:
        raise NotFound
    mctx = ctx.in_mission(mission_code)
    with unit_of_work(mctx) as session:
        agreement = session.get(SharingAgreement, agreement_id)
        if agreement is None:
            raise NotFound
        if agreement.status != DRAFT:
            raise NotADraft
        if agreement.drafted_by == actor(ctx):
            raise OwnDraft
        for earlier in session.scalars(
            sa.select(SharingAgreement).where(
                SharingAgreement.partner_id == agreement.partner_id, SharingAgreement.status == APPROVED
            )
        ):
            earlier.status = SUPERSEDED
        agreement.status, agreement.approved_by, agreement.approved_at = APPROVED, actor(ctx), utcnow()
        audit.record(session, mctx, "agreement.approve", None, [FIELD_GROUP])
        return agreement.version
