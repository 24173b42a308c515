"""Use cases of the case itself: open, view, edit the person and victim context, close (with a
supervisor's approval where the mission wants it), reopen."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from ctm_plugin.domain.case import APPROVED, PENDING, REFUSED, Case, CaseClosure, PersonProfile, VictimContext
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import MissionActivation, utcnow
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.screening import Determination
from ctm_plugin.domain.sync import HostLink
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case import (
    APPROVE,
    CLOSED_STATUSES,
    CloseCaseSchema,
    ClosureDecisionSchema,
    OpenCaseSchema,
    PersonSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.schemas.mission_settings import case_close_requires_approval
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import (
    CASE_EDIT,
    CASE_SUPERVISE,
    CASE_VIEW,
    DETERMINE,
    IDENTITY_VIEW,
    field_groups,
)
from mimosa_host.plugin_api import RequestContext

from .base import (
    Invalid,
    NotFound,
    assign,
    case_for_page,
    case_of_beneficiary,
    get_case,
    load,
    read_beside,
    require,
    touch,
    unit_of_work,
)


@contextmanager
def viewing(
    ctx: RequestContext,
    beneficiary_id: str,
    *groups: str,
    action: str = "case.view",
    options: Sequence[ORMOption] = (),
    beside: Sequence[tuple[Any, Any]] = (),
) -> Iterator[tuple[Session, Case | None]]:
    """The beneficiary's case (or ``None``) for a page, with the view audited before it is shown
    (as ``action``: ``case.print`` for the summary for print).

    The page renders inside the block, in the transaction that writes the view's audit event: one commit
    per page (it chains the event, ``security.audit_chain``); if the event cannot be written, nothing is
    shown. ``options`` load with the case what the page shows of it (e.g. ``joinedload(Case.person)``), and
    whether it was handed over is read with it too (:func:`handed_over_to` then asks nothing more), and so are
    the rows ``beside`` names (:func:`case_for_page`).
    """
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        case = case_for_page(session, beneficiary_id, options, beside)
        audit.record(session, ctx, action, case.id if case else None, field_groups(ctx.permissions, *groups))
        session.flush()
        yield session, case


@contextmanager
def following(ctx: RequestContext, beneficiary_id: str) -> Iterator[tuple[Session, Case]]:
    """The beneficiary's case for a part of a tab that refreshes itself (the Return tab's bookings while one
    is under way), checked as the tab is (``ctm.case.view``, the mission's scope; none: :class:`NotFound`).

    Not audited: the tab's view that starts the refresh recorded its field group, and the refresh shows
    the same group of the same case again (docs/auditors.md), so a page left open does not flood the trail.
    """
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        case = case_of_beneficiary(session, beneficiary_id)
        if case is None:
            raise NotFound
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


CLOSED, REQUESTED = "closed", "requested"


def close_case(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> str:
    """Close the case, or, where the mission wants a supervisor's approval, ask for it.

    Returns :data:`CLOSED` or :data:`REQUESTED`; either way the case's version moves on.
    """
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, closure = _closure(session, ctx, case_id, data)
        if case_close_requires_approval(ctx.settings):
            session.add(closure)
            audit.record(session, ctx, "case.close.request", case.id)
            return REQUESTED
        _close(case, closure)
        audit.record(session, ctx, "case.close", case.id)
        return CLOSED


def check_closing(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """Refuse now what closing would refuse, so that the confirmation is asked only of a closing that can
    happen; nothing is written (the transaction is never committed)."""
    require(ctx, CASE_EDIT)
    with mission_session(ctx) as session:
        _closure(session, ctx, case_id, data)
        session.rollback()


def _closure(session: Session, ctx: RequestContext, case_id: int, data: dict[str, Any]) -> tuple[Case, CaseClosure]:
    """The case and its closing as ``data`` asks, once everything closing refuses has been checked."""
    case = get_case(session, case_id)
    values = load(CloseCaseSchema(), data)
    waiting = pending_closure(session, case.id)  # read before the case changes: one UPDATE, one version
    touch(case, ctx, values["version"], closing=True)
    if case.status in CLOSED_STATUSES:
        raise Invalid({"status": [N_("The case is already closed.")]})
    if values["closed_on"] < case.opened_on:
        raise Invalid({"closed_on": [N_("A case cannot close before it opened.")]})
    if waiting is not None:
        raise Invalid({"close_reason": [N_("A request to close this case is already waiting for a supervisor.")]})
    closure = CaseClosure(
        mission_code=ctx.mission.code,
        case_id=case.id,
        status=values["status"],
        reason=values["close_reason"],
        note=values.get("reason") or "",
        closed_on=values["closed_on"],
        requested_by=actor(ctx),
    )
    return case, closure


def _close(case: Case, closure: CaseClosure) -> None:
    case.status, case.close_reason, case.closed_on = closure.status, closure.reason, closure.closed_on
    case.status_reason = closure.note or None


def latest_determination_of(case_id: Any, *columns: Any) -> sa.Select[Any]:
    """The query of the case's latest determination (``columns`` of it, or the row): the last decided, and of
    two decided at once the last written. ``case_id`` may be a column, for a correlated subquery."""
    return (
        sa.select(*(columns or (Determination,)))
        .where(Determination.case_id == case_id)
        .order_by(Determination.decided_at.desc(), Determination.id.desc())
        .limit(1)
    )


def pending_closure_of(case_id: Any, *columns: Any) -> sa.Select[Any]:
    """The query of the case's request to close that waits for a supervisor (``columns`` of it, or the row);
    ``case_id`` may be a column, for a correlated subquery."""
    return (
        sa.select(*(columns or (CaseClosure,)))
        .where(CaseClosure.case_id == case_id, CaseClosure.state == PENDING)
        .order_by(CaseClosure.id)
        .limit(1)
    )


def pending_closure(session: Session, case_id: int) -> CaseClosure | None:
    """The case's request to close that waits for a supervisor, if there is one."""
    return session.scalar(pending_closure_of(case_id))


def overview_beside() -> tuple[tuple[Any, Any], ...]:
    """What the case tab shows beside the case, as ``(entity, on)`` outer joins to it (:func:`case_for_page`'s
    ``beside``): its latest determination (as :func:`~ctm_plugin.services.screening.latest_determination`),
    its request to close waiting for a supervisor (as :func:`pending_closure`) and its link to the host's
    record."""
    latest = latest_determination_of(Case.id, Determination.id).correlate(Case).scalar_subquery()
    waiting = pending_closure_of(Case.id, CaseClosure.id).correlate(Case).scalar_subquery()
    return (
        (Determination, Determination.id == latest),
        (CaseClosure, CaseClosure.id == waiting),
        (HostLink, HostLink.case_id == Case.id),
    )


def overview(session: Session, case_id: int) -> tuple[Determination | None, CaseClosure | None, HostLink | None]:
    """:func:`overview_beside`'s rows, as the case tab read them with its case (no statement of their own)."""
    read = read_beside(session, case_id)
    assert read is not None, "the case tab reads its case with overview_beside()"
    determination, closure, link = read
    return determination, closure, link


def decide_closure(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> str:
    """A supervisor approves (the case closes as asked) or refuses (saying why) a request to close.

    No one decides their own request. Returns the request's new state.
    """
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ClosureDecisionSchema(), data)
        closure = pending_closure(session, case.id)
        if closure is None:
            raise Invalid({"decision": [N_("No request to close this case is waiting.")]})
        if closure.requested_by == actor(ctx):
            raise Invalid({"decision": [N_("You asked to close this case: another supervisor decides.")]})
        touch(case, ctx, values["version"], closing=True)
        closure.decided_by, closure.decided_at = actor(ctx), utcnow()
        if values["decision"] == APPROVE:
            closure.state = APPROVED
            _close(case, closure)
            audit.record(session, ctx, "case.close.approve", case.id)
        else:
            closure.state, closure.refusal = REFUSED, values["refusal"]
            audit.record(session, ctx, "case.close.refuse", case.id)
        return closure.state


def reopen_case(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReopenCaseSchema(), data)
        touch(case, ctx, values["version"], reopening=True)
        if case.status not in CLOSED_STATUSES:
            raise Invalid({"reason": [N_("The case is not closed.")]})
        case.status, case.status_reason, case.closed_on, case.close_reason = "Active", values["reason"], None, None
        audit.record(session, ctx, "case.reopen", case.id)
