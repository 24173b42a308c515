"""The mission's inbox of referrals partners sent through the partner service (adapters/partner_service.py):
a caseworker screens each pending one and accepts it into a case or declines it with a reason the partner reads
back (``GetReferralStatus``).

Accepting links the referral to the case of a beneficiary this mission already has, or opens a case for it that
stands on no host record yet (``REFERRAL-<id>``) until the caseworker finds or registers the person in the host
and links it (people.py ``link_to_host``, as a hand-over's case is). The case's person profile takes what the
referral says where the profile has the field and it is still empty, in the code lists' terms; the person's
consent to this organisation's assistance (``Services``) is recorded as the caseworker took it: the partner only
attested the consent to being referred.

A decision claims the referral first (still pending → decided, written at once under its version): of two
caseworkers deciding at once, the second gets :class:`Decided` and nothing of theirs is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.codelists import geo, htcds
from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partner_service import ACCEPTED, DECLINED, ON_NO_RECORD, PENDING, InboundReferral
from ctm_plugin.domain.partners import OUTBOUND, Partner
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.referral_inbox import AcceptReferralSchema, DeclineReferralSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT
from mimosa_host.plugin_api import RequestContext

from .assistance import consent_in_force
from .base import Conflict, Invalid, NotFound, case_of_beneficiary, load, require, unit_of_work
from .cases import new_case
from .partners import FIELD_GROUP, record_exchange

OWN_CONSENT = "Services"
"""The consent the caseworker records on accepting: to this organisation's assistance."""
OWN_CONSENT_ITEMS = ["ConsentedToInterview", "InformedOfDataUses"]
DECIDED_OPERATION = "DecideReferral"
"""The exchange a decision records on the partner's page (outbound: the mission's answer, which the partner reads
through GetReferralStatus)."""
NO_CASE_OF_BENEFICIARY = N_(
    "This mission has no case of this beneficiary: leave the field empty to open a new case, or open the case "
    "from Find a person first."
)


class Decided(Conflict):
    """Another caseworker decided on the referral since the page was read: nothing saved."""

    message = N_("Another caseworker has decided on this referral meanwhile. Reload the page to see the decision.")


@dataclass
class Received:
    """A referral as the inbox shows it: the row (its fields unsealed only on its own page), its partner's name."""

    referral: InboundReferral
    partner_name: str
    case: Case | None = None


def _rows() -> sa.Select[InboundReferral, str]:
    return sa.select(InboundReferral, Partner.name).join(Partner, Partner.id == InboundReferral.partner_id)


def pending_count(ctx: RequestContext) -> int:
    """How many referrals wait for a decision in the mission (the menu's count)."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        return (
            session.scalar(
                sa.select(sa.func.count()).select_from(InboundReferral).where(InboundReferral.status == PENDING)
            )
            or 0
        )


def inbox(ctx: RequestContext) -> list[Received]:
    """The mission's referrals, pending ones first (oldest first: the longest waiting), then decided, newest first;
    without their fields (detached)."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        rows = session.execute(
            _rows().order_by(
                (InboundReferral.status == PENDING).desc(),
                sa.case((InboundReferral.status == PENDING, InboundReferral.id), else_=-InboundReferral.id),
            )
        ).all()
        audit.record(session, ctx, "referral.inbox.view", None, [FIELD_GROUP])
        found = [Received(referral, name) for referral, name in rows]
        session.flush()
        session.expunge_all()
        return found


def _referral(session: Session, referral_id: int) -> tuple[InboundReferral, str]:
    row = session.execute(_rows().where(InboundReferral.id == referral_id)).first()
    if row is None:
        raise NotFound
    return row[0], row[1]


def received(ctx: RequestContext, referral_id: int) -> Received:
    """One referral of the mission with its fields, the view audited (detached)."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        referral, name = _referral(session, referral_id)
        case = session.get(Case, referral.case_id) if referral.case_id else None
        audit.record(session, ctx, "referral.view", referral.case_id, [FIELD_GROUP, "identity"])
        seen = Received(referral, name, case)
        session.flush()
        session.expunge_all()
        return seen


def _claim(session: Session, referral_id: int, status: str) -> InboundReferral:
    """The referral, moved from pending to ``status`` and written at once; :class:`Decided` if it was not pending,
    or another decision was written since it was read (its version moved)."""
    referral, _name = _referral(session, referral_id)
    if referral.status != PENDING:
        raise Decided
    referral.status, referral.decided_at = status, utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except StaleDataError:
        raise Decided from None
    return referral


def _decided(session: Session, ctx: RequestContext, referral: InboundReferral) -> None:
    """The decision on the partner's page: the mission's answer, under the agreement's version it came with."""
    record_exchange(
        session,
        ctx,
        referral.partner_id,
        OUTBOUND,
        DECIDED_OPERATION,
        referral.partner_reference,
        referral.agreement_version,
        referral.status,
    )


def accept(ctx: RequestContext, referral_id: int, data: dict[str, Any]) -> int:
    """Accept the referral into a case (the beneficiary's existing one, or a new one); returns the case's id."""
    require(ctx, CASE_EDIT)
    values = load(AcceptReferralSchema(today=mission_today(ctx.settings)), data)
    with unit_of_work(ctx) as session:
        referral = _claim(session, referral_id, ACCEPTED)
        beneficiary_id = values.get("beneficiary_id")
        if beneficiary_id:
            case = case_of_beneficiary(session, beneficiary_id)
            if case is None:
                raise Invalid({"beneficiary_id": [NO_CASE_OF_BENEFICIARY]})
        else:
            case = new_case(
                session, ctx, f"{ON_NO_RECORD}{referral.id}", {"opened_on": values["opened_on"].isoformat()}
            )
        assert case.person is not None  # every case has one
        _prefill(case.person, referral.payload)
        if consent_in_force(session, case.id, OWN_CONSENT) is None:
            session.add(
                Consent(
                    mission_code=ctx.mission.code,
                    case_id=case.id,
                    purpose=OWN_CONSENT,
                    items=list(OWN_CONSENT_ITEMS),
                    given_on=values["consent_given_on"],
                    method=values["consent_method"],
                    recorded_by=actor(ctx),
                )
            )
        referral.case_id = case.id
        _decided(session, ctx, referral)
        audit.record(session, ctx, "referral.accept", case.id, [FIELD_GROUP, "person", "consent"])
        return case.id


def decline(ctx: RequestContext, referral_id: int, data: dict[str, Any]) -> None:
    """Decline the referral with a reason, sealed, which the partner reads back."""
    require(ctx, CASE_EDIT)
    values = load(DeclineReferralSchema(), data)
    with unit_of_work(ctx) as session:
        referral = _claim(session, referral_id, DECLINED)
        referral.decline_reason = values["reason"]
        _decided(session, ctx, referral)
        audit.record(session, ctx, "referral.decline", None, [FIELD_GROUP])


def _prefill(person: PersonProfile, payload: dict[str, Any]) -> None:
    """The profile's empty fields that the referral fills, in the code lists' terms (anything else stays on the
    referral's page only)."""
    birth = _birth_date(payload.get("person.birth_date"))
    if birth and person.birth_date is None:
        person.birth_date, person.birth_date_precision = birth
    sex = payload.get("person.sex")
    if sex in htcds.GENDER.values and not person.gender:
        person.gender = sex
    citizenship = payload.get("person.citizenship")
    if citizenship in geo.COUNTRY.values and not person.citizenships:
        person.citizenships = [citizenship]
    languages = [code for code in str(payload.get("person.languages") or "").replace(",", " ").split()]
    if languages and all(code in geo.LANGUAGE.values for code in languages) and not person.languages:
        person.languages = languages


def _birth_date(value: Any) -> tuple[date, str] | None:
    """A full ISO date (``Day``) or a year (``Year``, on the 1st of January) the partner sent; else nothing."""
    text = str(value or "")
    try:
        if len(text) == 4 and text.isdigit():
            return date(int(text), 1, 1), "Year"
        return date.fromisoformat(text), "Day"
    except ValueError:
        return None
