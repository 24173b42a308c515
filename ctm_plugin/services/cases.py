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
from ctm_plugin.domain.models import MissionActivation
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import FormSchema
from ctm_plugin.schemas.case import (
    CLOSED_STATUSES,
    CloseCaseSchema,
    OpenCaseSchema,
    PersonSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, IDENTITY_VIEW, field_groups
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, actor, case_of_beneficiary, get_case, load, require, touch, unit_of_work


@contextmanager
def viewing(ctx: RequestContext, beneficiary_id: str, *groups: str) -> Iterator[tuple[Session, Case | None]]:
    """The beneficiary's case (or ``None``) for a page, with the view audited before it is shown.

    The page renders inside the block; if the audit event cannot be written, nothing is shown.
    """
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        case = case_of_beneficiary(session, beneficiary_id)
        audit.record(session, ctx, "case.view", case.id if case else None, field_groups(ctx.permissions, *groups))
        session.flush()
        yield session, case


def _next_case_number(session: Session, ctx: RequestContext, year: int) -> str:
    activation = session.get(MissionActivation, ctx.mission.code)
    prefix = activation.case_number_prefix if activation else "CT"
    stem = f"{prefix}-{year}-"
    # The highest number, not a count: a case handed over to another mission leaves a gap.
    last = session.scalar(sa.select(sa.func.max(Case.case_number)).where(Case.case_number.startswith(stem)))
    return f"{stem}{int(last.removeprefix(stem)) + 1 if last else 1:05d}"


def open_case(ctx: RequestContext, beneficiary_id: str, data: dict[str, Any]) -> int:
    """Open the case of a host beneficiary in the request's mission; returns its id."""
    require(ctx, CASE_EDIT)
    values = load(OpenCaseSchema(), data)
    try:
        with unit_of_work(ctx) as session:
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
            session.flush()
            audit.record(session, ctx, "case.open", case.id)
            return case.id
    except IntegrityError:
        # Another caseworker opened it, or took the same number, at the same moment.
        raise Invalid({"opened_on": [N_("The case could not be opened at this moment; try again.")]}) from None


def birth_date_of(case: Case) -> date | None:
    return case.person.birth_date if case.person else None


IDENTITY_FIELDS = ("birth_date", "birth_date_precision")


def _assign(target: object, schema: FormSchema, values: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    """Set every field of the form: one left blank clears the stored value (lists come as [])."""
    for name in schema.fields:
        if name != "version" and name not in skip:
            setattr(target, name, values.get(name))


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
        _assign(case.person, schema, values, skip=() if identity else IDENTITY_FIELDS)
        audit.record(session, ctx, "case.person.edit", case.id, ["person", *(["identity"] if identity else [])])


def update_victim(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        schema = VictimContextSchema(birth_date=birth_date_of(case))
        values = load(schema, data)
        touch(case, ctx, values["version"])
        _assign(case.victim, schema, values)
        audit.record(session, ctx, "case.victim.edit", case.id, ["victim"])


def close_case(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(CloseCaseSchema(), data)
        touch(case, ctx, values["version"])
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
