"""Follow-ups on a case, and a referral's answer: the two things the due list asks a caseworker to close."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.assistance import ANSWERS, Referral
from ctm_plugin.domain.due import FollowUp
from ctm_plugin.domain.models import utcnow
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.due import FollowUpSchema, ReferralAnswerSchema, VersionOnlySchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT
from mimosa_host.plugin_api import RequestContext

from . import owners
from .base import Invalid, add_to_case, get_case, load, require, row_of_case, touch, unit_of_work

ALREADY_DONE = N_("This follow-up is already done.")
NOT_AFTER = N_("This answer cannot follow the referral's status: reload the page.")
BEFORE_REFERRAL = N_("The answer cannot be dated before the referral.")
BEFORE_ACCEPTANCE = N_("The referral cannot be completed before it was accepted.")


def add_follow_up(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(FollowUpSchema(), data)
        owner = (values.get("owner") or actor(ctx)).strip()
        if owner not in {user.username for user in owners.caseworkers(ctx)}:
            raise Invalid({"owner": [owners.NOT_A_CASEWORKER]})
        touch(case, ctx, values["version"])
        row = FollowUp(due_on=values["due_on"], owner=owner, note=values["note"], created_by=actor(ctx))
        return add_to_case(session, ctx, case, row, "follow_up.add", "case")


def follow_ups_of_case(session: Session, case_id: int) -> list[FollowUp]:
    """The case's follow-ups: open ones by their day, then done ones, the last done first."""
    return list(
        session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.case_id == case_id)
            .order_by(FollowUp.done_at.is_not(None), FollowUp.due_on, FollowUp.done_at.desc(), FollowUp.id)
        )
    )


def mark_done(ctx: RequestContext, case_id: int, follow_up_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        row = row_of_case(session, FollowUp, follow_up_id, case)
        touch(case, ctx, load(VersionOnlySchema(), data)["version"])
        if row.done_at is not None:
            raise Invalid({"version": [ALREADY_DONE]})
        row.done_by, row.done_at = actor(ctx), utcnow()
        audit.record(session, ctx, "follow_up.done", case.id, ["case"])


def answer_referral(ctx: RequestContext, case_id: int, referral_id: int, data: dict[str, Any]) -> None:
    """Record the organisation's answer (accepted, declined) or the referral's completion, with its date."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        referral = row_of_case(session, Referral, referral_id, case)
        values = load(ReferralAnswerSchema(), data)
        touch(case, ctx, values["version"])
        status, on = values["status"], values["answered_on"]
        if referral.status not in ANSWERS[status]:
            raise Invalid({"status": [NOT_AFTER]})
        if on < referral.referred_on:
            raise Invalid({"answered_on": [BEFORE_REFERRAL]})
        if referral.accepted_on is not None and on < referral.accepted_on:
            raise Invalid({"answered_on": [BEFORE_ACCEPTANCE]})
        referral.status, referral.answered_by = status, actor(ctx)
        setattr(referral, f"{status}_on", on)
        audit.record(session, ctx, "referral.answer", case.id, ["referrals"])
