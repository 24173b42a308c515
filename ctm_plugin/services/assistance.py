"""Use cases of assistance: services, consent per purpose (and its withdrawal), referrals."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain.assistance import AssistanceService, Consent, Referral
from ctm_plugin.domain.retrafficking import SHARING_PURPOSE, RetraffickingMatch
from ctm_plugin.domain.scope import hq_session
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.assistance import ConsentSchema, ReferralSchema, ServiceSchema, WithdrawConsentSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, add_to_case, edit_row, get_case, load, require, row_of_case, touch, unit_of_work
from .cases import birth_date_for


def add_service(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ServiceSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        service = AssistanceService(**values)
        return add_to_case(session, ctx, case, service, "service.add", "assistance")


def edit_service(ctx: RequestContext, case_id: int, service_id: int, data: dict[str, Any]) -> None:
    """Correct a service: e.g. a shelter under way marked completed, with its end date."""
    require(ctx, CASE_EDIT)
    edit_row(
        ctx,
        case_id,
        AssistanceService,
        service_id,
        lambda case: ServiceSchema(birth_date=birth_date_for(ctx, case)),
        data,
        "service.edit",
        "assistance",
    )


def in_force(purpose: str, on: date | None = None) -> sa.ColumnElement[bool]:
    """Whether a consent row is for ``purpose`` and in force now, or on the day ``on`` (given by then, not yet
    withdrawn): the one rule, for a case (:func:`consent_in_force`) or every case at once (exports, matching)."""
    not_withdrawn: sa.ColumnElement[bool] = Consent.withdrawn_on.is_(None)
    if on is not None:
        not_withdrawn = sa.and_(Consent.given_on <= on, sa.or_(not_withdrawn, Consent.withdrawn_on > on))
    return sa.and_(Consent.purpose == purpose, not_withdrawn)


def consent_in_force(session: sa.orm.Session, case_id: int, purpose: str, on: date | None = None) -> Consent | None:
    """The consent for ``purpose`` in force now, or on the day ``on``."""
    return session.scalar(
        sa.select(Consent)
        .where(Consent.case_id == case_id, in_force(purpose, on))
        .order_by(Consent.given_on.desc(), Consent.id.desc())
        .limit(1)
    )


def record_consent(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ConsentSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        if consent_in_force(session, case.id, values["purpose"]) is not None:
            raise Invalid({"purpose": [N_("Consent for this purpose is already in force: withdraw it first.")]})
        consent = Consent(recorded_by=actor(ctx), **values)
        return add_to_case(session, ctx, case, consent, "consent.record", "consent")


def withdraw_consent(ctx: RequestContext, case_id: int, consent_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        consent = row_of_case(session, Consent, consent_id, case)
        values = load(WithdrawConsentSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values["version"])
        if not consent.in_force:
            raise Invalid({"withdrawn_on": [N_("This consent has already been withdrawn.")]})
        if values["withdrawn_on"] < consent.given_on:
            raise Invalid({"withdrawn_on": [N_("Consent cannot be withdrawn before it was given.")]})
        consent.withdrawn_on, consent.withdrawal_reason = values["withdrawn_on"], values.get("reason")
        if consent.purpose == SHARING_PURPOSE:
            _stop_sharing(ctx, case.id)
        audit.record(session, ctx, "consent.withdraw", case.id, ["consent"])


def _stop_sharing(ctx: RequestContext, case_id: int) -> None:
    """The case's consent to tell another mission of it withdrawn: every re-trafficking match naming it as the
    later case stops being shared with the earlier mission now, not at the matching job's next run. HQ's rows,
    written through an HQ session joining the withdrawal's transaction (one commit, or none) by the caseworker
    withdrawing (who holds :data:`CASE_EDIT`); only the flag changes."""
    with hq_session(ctx, CASE_EDIT) as hq, hq.begin():
        for row in hq.scalars(
            sa.select(RetraffickingMatch).where(
                RetraffickingMatch.later_mission == ctx.mission.code,
                RetraffickingMatch.later_case_id == case_id,
                RetraffickingMatch.shared_with_earlier,
            )
        ):
            row.shared_with_earlier = False


def refer(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """Record a referral; an outgoing one needs the referral consent in force on its date."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReferralSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        consent = consent_in_force(session, case.id, "Referral", on=values["referred_on"])
        if values["direction"] == "Outgoing" and consent is None:
            raise Invalid({"direction": [N_("An outgoing referral needs the person's consent to referral.")]})
        referral = Referral(recorded_by=actor(ctx), **values)
        return add_to_case(session, ctx, case, referral, "referral.add", "referrals")
