"""Preparing a return: the checklist, a child's best-interests determination, HQ's risk decision,
and the check a booking passes (every missing item named, nothing saved).

The preparation edited is the one of the return not yet booked; booking attaches it to the
booking. The next return (after one ended) starts a new preparation from the last one's checklist,
without its decisions: a best-interests determination and HQ's approval are given for one return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.preparation import CONSENT_MISSING, ReturnPreparation, is_child, missing_items
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import FormSchema
from ctm_plugin.schemas.mission_settings import required_items
from ctm_plugin.schemas.preparation import DOCUMENT_FIELDS, BestInterestsSchema, ChecklistSchema, RiskDecisionSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import (
    APPROVE_RISK,
    CASE_EDIT,
    CASE_VIEW,
    CHILD_PROTECTION,
    IDENTITY_VIEW,
    field_groups,
)
from mimosa_host.plugin_api import RequestContext

from .assistance import consent_in_force
from .base import Invalid, assign, get_case, load, require, touch, unit_of_work
from .cases import birth_date_for

CHECKLIST = "checklist"
"""The booking form's key for the items a refused booking lists."""
CONSENT = "consent"
"""The booking form's key for the consents a refused booking lacks (its consent line, beside the Consent tab's link)."""
NOT_HIGH_RISK = N_("Only a return assessed as high risk waits for a decision.")
PURPOSES = ("Return", "HandOver")


@dataclass
class Checklist:
    """The return being prepared, as the Return tab shows it (detached)."""

    preparation: ReturnPreparation | None
    required: frozenset[str]
    consents: frozenset[str]
    child: bool
    missing: list[str]


CARRIED = tuple(name for name in ChecklistSchema().fields if name != "version")
"""What a new preparation takes over from the last return's: the checklist, not the decisions."""


def being_prepared(session: Session, case_id: int) -> ReturnPreparation | None:
    """The preparation of the return not booked yet; a new one (not added to the session) that
    starts from the last booked return's checklist; or ``None`` if no return was ever prepared."""
    rows = session.scalars(
        sa.select(ReturnPreparation)
        .where(ReturnPreparation.case_id == case_id)
        .order_by(ReturnPreparation.return_id.is_not(None), ReturnPreparation.id.desc())
        .limit(1)
    ).all()
    if not rows or rows[0].return_id is None:
        return rows[0] if rows else None
    last = rows[0]
    return ReturnPreparation(
        mission_code=last.mission_code,
        case_id=case_id,
        updated_by=last.updated_by,
        **{name: getattr(last, name) for name in CARRIED},
    )


def _consents(session: Session, case_id: int) -> frozenset[str]:
    return frozenset(p for p in PURPOSES if consent_in_force(session, case_id, p) is not None)


def _child(case: Case, prep: ReturnPreparation | None, departure: date) -> bool:
    """Judged on the case's birth date whoever asks: the safeguards do not depend on who books."""
    person = case.person
    return is_child(
        person.birth_date if person else None,
        person.birth_date_precision if person else None,
        bool(prep and prep.signs_of_minority),
        departure,
    )


def _state(ctx: RequestContext, session: Session, case: Case, departure: date | None) -> Checklist:
    prep = being_prepared(session, case.id)
    on = departure or (prep.planned_departure if prep else None) or mission_today(ctx.settings)
    required, consents, child = required_items(ctx.settings), _consents(session, case.id), _child(case, prep, on)
    missing = missing_items(prep, required, child=child, departure=on, consents=consents)
    return Checklist(prep, required, consents, child, missing)


def checklist_of_case(ctx: RequestContext, case_id: int) -> Checklist:
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        state = _state(ctx, session, get_case(session, case_id), None)
        session.expunge_all()
        return state


def ready_to_book(ctx: RequestContext, session: Session, case: Case, departure: date) -> Checklist:
    """The booking's check: refused with every missing item, the consents under :data:`CONSENT` and the rest
    under :data:`CHECKLIST` (msgids)."""
    state = _state(ctx, session, case, departure)
    if state.missing:
        consents = [m for m in state.missing if m in CONSENT_MISSING]
        others = [m for m in state.missing if m not in CONSENT_MISSING]
        raise Invalid({key: found for key, found in ((CHECKLIST, others), (CONSENT, consents)) if found})
    return state


def _edit(
    ctx: RequestContext, session: Session, case_id: int, schema: FormSchema, data: dict[str, Any]
) -> tuple[Case, ReturnPreparation, dict[str, Any]]:
    """Load the form (dates on the mission's calendar), check the version; the preparation to change."""
    case = get_case(session, case_id)
    schema.birth_date, schema.today = birth_date_for(ctx, case), mission_today(ctx.settings)
    values = load(schema, data)
    touch(case, ctx, values.pop("version"))
    prep = being_prepared(session, case.id) or ReturnPreparation(mission_code=ctx.mission.code, case_id=case.id)
    session.add(prep)
    prep.updated_by = actor(ctx)
    return case, prep, values


def save_checklist(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """The caseworker's checklist; the travel document only from a user who may see it.

    A changed risk assessment needs a new decision: HQ decided on the one it saw.
    """
    require(ctx, CASE_EDIT)
    identity = ctx.can(IDENTITY_VIEW)
    schema = ChecklistSchema(exclude=() if identity else DOCUMENT_FIELDS)
    with unit_of_work(ctx) as session:
        case, prep, values = _edit(ctx, session, case_id, schema, data)
        risk_before = (prep.risk_level, prep.risk_reason)
        assign(prep, schema, values)
        if (prep.risk_level, prep.risk_reason) != risk_before:
            prep.risk_decision = prep.risk_decision_reason = prep.risk_decided_by = prep.risk_decided_at = None
        audit.record(session, ctx, "return.prepare", case.id, field_groups(ctx.permissions, "return"))


def record_best_interests(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """A child's best-interests determination: only a child-protection officer records one."""
    require(ctx, CHILD_PROTECTION)
    schema = BestInterestsSchema()
    with unit_of_work(ctx) as session:
        case, prep, values = _edit(ctx, session, case_id, schema, data)
        assign(prep, schema, values)
        prep.bid_by = actor(ctx)
        audit.record(session, ctx, "return.best_interests", case.id, ["return"])


def decide_risk(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """HQ approves or refuses a high-risk return, with the reason."""
    require(ctx, APPROVE_RISK)
    schema = RiskDecisionSchema()
    with unit_of_work(ctx) as session:
        case, prep, values = _edit(ctx, session, case_id, schema, data)
        if prep.risk_level != "HIGH":
            raise Invalid({"risk_decision": [NOT_HIGH_RISK]})
        assign(prep, schema, values)
        prep.risk_decided_by, prep.risk_decided_at = actor(ctx), utcnow()
        audit.record(session, ctx, "return.risk_decision", case.id, ["return"])
