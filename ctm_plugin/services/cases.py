"""Use cases of the case itself: open, view, edit the person and victim context, close, reopen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import MissionActivation
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case import (
    CLOSED_STATUSES,
    CloseCaseSchema,
    OpenCaseSchema,
    PersonSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DETERMINE, IDENTITY_VIEW, field_groups
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, assign, case_of_beneficiary, get_case, load, require, touch, unit_of_work


@contextmanager
def viewing(
    ctx: RequestContext, beneficiary_id: str, *groups: str, action: str = "case.view"
) -> Iterator[tuple[Session, Case | None]]:
    """The beneficiary's case (or ``None``) for a page, with the view audited before it is shown
    (as ``action``: ``case.print`` for the summary for print).

    The page renders inside the block; if the audit event cannot be written, nothing is shown.
    """
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        case = case_of_beneficiary(session, beneficiary_id)
        audit.record(session, ctx, action, case.id if case else None, field_groups(ctx.permissions, *groups))
        session.flush()
        yield session, case


def _next_case_number(session: Session, ctx: RequestContext, year: int) -> str:
    activation = session.get(MissionActivation, ctx.mission.code)
    prefix = activation.case_number_prefix if activation else "CT"
    stem = f"{prefix}-{year}-"
    # The highest number, not a count (a case handed over to another mission leaves a gap);
    # longest first, so that 100000 comes after 99999.
    last = session.scalar(
        sa.select(Case.case_number)
        .where(Case.case_number.startswith(stem))
        .order_by(sa.func.length(Case.case_number).desc(), Case.case_number.desc())
        .limit(1)
    )
    return f"{stem}{int(last.removeprefix(stem)) + 1 if last else 1:05d}"


def open_case(ctx: RequestContext, beneficiary_id: str, data: dict[str, Any]) -> int:
    """Open the case of a host beneficiary in the request's mission; returns its id."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = new_case(session, ctx, beneficiary_id, data)
        audit.record(session, ctx, "case.open", case.id)
        return case.id


def new_case(session: Session, ctx: RequestContext, beneficiary_id: str, data: dict[str, Any]) -> Case:
    """A new, flushed case with an empty person profile and victim context (the caller audits it)."""
    values = load(OpenCaseSchema(today=mission_today(ctx.settings)), data)  # "in the future" on the mission's calendar
    if case_of_beneficiary(session, beneficiary_id) is not None:
        raise Invalid({"opened_on": [N_("This beneficiary already has a case in this mission.")]})
    case = Case(
        mission_code=ctx.mission.code,
        case_number=_next_case_number(session, ctx, values["opened_on"].year),
        beneficiary_id=beneficiary_id,
        status="Active",
        owner=actor(ctx),
        opened_on=values["opened_on"],
        updated_by=actor(ctx),
    )
    case.person = PersonProfile(mission_code=ctx.mission.code)
    case.victim = VictimContext(mission_code=ctx.mission.code)
    session.add(case)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another caseworker opened it, or took the same number, at the same moment.
        raise Invalid({"opened_on": [N_("The case could not be opened at this moment; try again.")]}) from None
    return case


def birth_date_for(ctx: RequestContext, case: Case) -> date | None:
    """The birth date the forms check dates against, only for a user who may see it.

    Checking it for anyone else would let them find the date out, one refused date at a time.
    """
    if not ctx.can(IDENTITY_VIEW) or case.person is None:
        return None
    return case.person.birth_date


IDENTITY_FIELDS = ("birth_date", "birth_date_precision")
TRAFFICKING_STATUS_FIELDS = ("trafficking_status", "status_decided_by")
NOT_YOURS_TO_DETERMINE = N_("Only a user who records determinations may change the trafficking status.")


def update_person(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        schema = PersonSchema()
        values = load(schema, data)
        touch(case, ctx, values["version"])
        values.setdefault("birth_date_precision", "Unknown")
        # Without the identity permission the form has no birth date: the stored one stays.
        identity = ctx.can(IDENTITY_VIEW)
        assign(case.person, schema, values, skip=() if identity else IDENTITY_FIELDS)
        audit.record(session, ctx, "case.person.edit", case.id, ["person", *(["identity"] if identity else [])])


def update_victim(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        schema = VictimContextSchema(birth_date=birth_date_for(ctx, case))
        values = load(schema, data)
        touch(case, ctx, values["version"])
        # The trafficking status is a determination: only those who may determine change it.
        decides = ctx.can(DETERMINE)
        if not decides:
            changed = [n for n in TRAFFICKING_STATUS_FIELDS if n in data and values.get(n) != getattr(case.victim, n)]
            if changed:
                raise Invalid({name: [NOT_YOURS_TO_DETERMINE] for name in changed})
        assign(case.victim, schema, values, skip=() if decides else TRAFFICKING_STATUS_FIELDS)
        audit.record(session, ctx, "case.victim.edit", case.id, ["victim"])


def close_case(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(CloseCaseSchema(), data)
        touch(case, ctx, values["version"], closing=True)
        if case.status in CLOSED_STATUSES:
            raise Invalid({"status": [N_("The case is already closed.")]})
        if values["closed_on"] < case.opened_on:
            raise Invalid({"closed_on": [N_("A case cannot close before it opened.")]})
        case.status, case.status_reason, case.closed_on = values["status"], values["reason"], values["closed_on"]
        audit.record(session, ctx, "case.close", case.id)


def reopen_case(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReopenCaseSchema(), data)
        touch(case, ctx, values["version"])
        if case.status not in CLOSED_STATUSES:
            raise Invalid({"reason": [N_("The case is not closed.")]})
        case.status, case.status_reason, case.closed_on = "Active", values["reason"], None
        audit.record(session, ctx, "case.reopen", case.id)
