"""The consent and referrals tab: consent per purpose (and its withdrawal), referrals in and out."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.codelists import process as codes
from ctm_plugin.domain.assistance import Consent, Referral
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.assistance import ConsentSchema, ReferralSchema, WithdrawConsentSchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW
from ctm_plugin.services import assistance as service
from ctm_plugin.web import RECORD, ROW_ID, page
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit


def _load(session: Session, case: Case) -> dict[str, Any]:
    consents = session.scalars(
        sa.select(Consent).where(Consent.case_id == case.id).order_by(Consent.given_on.desc(), Consent.id.desc())
    ).all()
    # Per purpose in the code list's order; within a purpose, the newest first.
    order = {purpose: index for index, purpose in enumerate(codes.CONSENT_PURPOSE.values)}
    consents = sorted(consents, key=lambda c: order.get(c.purpose, len(order)))
    referrals = session.scalars(
        sa.select(Referral).where(Referral.case_id == case.id).order_by(Referral.referred_on.desc(), Referral.id.desc())
    ).all()
    return {"consents": consents, "referrals": referrals}


CONSENT = register_tab(
    CaseTab(
        id="ctm.consent",
        label=i18n.N_("Consent and referrals"),
        endpoint="ctm.consent",
        template="consent.html",
        field_group="consent",
        more_groups=("referrals",),
        load=_load,
    )
)


@page(RECORD + "/consent", CASE_VIEW)
def consent(record_ref: str):  # noqa: ANN201
    return show(CONSENT, record_ref)


@page(RECORD + "/consent/record", CASE_EDIT, methods=("POST",))
def record_consent(record_ref: str):  # noqa: ANN201
    return submit(
        CONSENT, record_ref, "consent", ConsentSchema, service.record_consent, i18n.N_("The consent is recorded.")
    )


@page(RECORD + f"/consent/<{ROW_ID}:consent_id>/withdraw", CASE_EDIT, methods=("POST",))
def withdraw_consent(record_ref: str, consent_id: int):  # noqa: ANN201
    return submit(
        CONSENT,
        record_ref,
        f"withdraw-{consent_id}",
        WithdrawConsentSchema,
        lambda ctx, case_id, data: service.withdraw_consent(ctx, case_id, consent_id, data),
        i18n.N_("The consent is withdrawn."),
    )


@page(RECORD + "/consent/referrals", CASE_EDIT, methods=("POST",))
def refer(record_ref: str):  # noqa: ANN201
    return submit(CONSENT, record_ref, "referral", ReferralSchema, service.refer, i18n.N_("The referral is recorded."))
