"""The hand-over between missions: propose (destination mission), accept or decline (mission of
origin), arrival (the host's feed), reception (mission of origin).

Each use case runs in the acting mission's scope; the hand-over row and its history are the
only rows both missions read and write. The feed runs in the proposing mission's job, so it
records the arrival on the hand-over only; the receiving mission's reception task is opened on
that mission's side: at acceptance when the person has already arrived, else by its own job
(:func:`open_reception_tasks`) or when its inbox is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.handover import (
    ACCEPTED,
    DECLINED,
    ON_NO_RECORD,
    OPEN_STATES,
    PROPOSED,
    Handover,
    HandoverEvent,
    ReceptionTask,
    allowed,
)
from ctm_plugin.domain.mission_time import in_mission_time, mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.preparation import is_child
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.handover import (
    AcceptHandoverSchema,
    DeclineHandoverSchema,
    ProposeHandoverSchema,
    ReceptionSchema,
)
from ctm_plugin.schemas.mission_settings import reception_deadline_hours
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, CHILD_PROTECTION, HANDOVER_ACCEPT
from mimosa_host.plugin_api import MissionRef, RequestContext

from .assistance import consent_in_force
from .base import Conflict, Invalid, NotFound, get_case, load, require, touch, unit_of_work
from .cases import new_case
from .returns import going

NO_RETURN = N_("Book the person's return first: a hand-over follows a return.")
NOT_ENABLED_THERE = N_(
    "No mission in the return's destination country uses the counter-trafficking module: "
    "the case cannot be handed over there."
)
NOT_A_RECEIVING_MISSION = N_("Choose one of the missions in the return's destination country.")
NO_CONSENT = N_("The person's consent to the hand-over is not in force: record it on the Consent tab first.")
ALREADY_PROPOSED = N_("This case already has a hand-over proposed or accepted.")
NOT_PROPOSED = N_("This hand-over is no longer waiting for a decision.")
CHILD_NEEDS_PROTECTION = N_("A child's hand-over is accepted only by a user with the child-protection permission.")
ALREADY_RECEIVED = N_("The reception is already recorded.")
NO_RECEPTION_YET = N_("The person has not arrived yet: the reception is recorded after the arrival.")
OPENED_BEFORE_PROPOSAL = N_("The case cannot open before the hand-over was proposed.")
ENDED_RETURNS = ("CANCELLED", "NO_SHOW")
"""Returns a hand-over cannot follow (an arrived one it still follows)."""


class MovedOn(Conflict):
    """The hand-over is no longer where the page showed it (decided, or its reception recorded): nothing saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def receiving_missions(ctx: RequestContext, destination_country: str) -> list[MissionRef]:
    """The missions where the CTM is enabled in the return's destination country (not this one)."""
    return [m for m in ctx.plugin_missions if m.country == destination_country and m.code != ctx.mission.code]


def return_to_hand_over(session: Session, case_id: int) -> ReturnBooking | None:
    """The case's newest return that is, or may still be, under way: the one a hand-over follows."""
    return session.scalar(
        sa.select(ReturnBooking)
        .join(ReturnBooking.outbox)
        .where(ReturnBooking.case_id == case_id, going(ended=ENDED_RETURNS))
        .order_by(ReturnBooking.booked_at.desc(), ReturnBooking.id.desc())
        .limit(1)
    )


def _record_of(values: dict[str, Any], person: PersonProfile | None, booking: ReturnBooking) -> dict[str, Any]:
    """The minimal hand-over record: the allow-list, filled from the form, the person and the return."""
    return allowed(
        {
            **values,
            "sex": person.gender if person else None,
            "birth_date": person.birth_date.isoformat() if person and person.birth_date else None,
            "languages": list(person.languages) if person else [],
            "escort": booking.escort,
            "travel": {
                "origin_country": booking.origin_country,
                "origin_location": booking.origin_location,
                "destination_country": booking.destination_country,
                "destination_location": booking.destination_location,
                "earliest_departure": booking.earliest_departure.isoformat(),
                "movement_id": booking.movement_id,
                "legs": list(booking.legs or []),
            },
        }
    )


def _event(session: Session, ctx: RequestContext, handover: Handover, what: str, reason: str | None = None) -> None:
    session.add(
        HandoverEvent(
            handover_id=handover.id,
            from_mission=handover.from_mission,
            to_mission=handover.to_mission,
            what=what,
            by=actor(ctx),
            by_mission=ctx.mission.code,
            reason=reason,
        )
    )


def _open_handover(session: Session, case_id: int) -> Handover | None:
    return session.scalar(
        sa.select(Handover).where(Handover.case_id == case_id, Handover.state.in_(OPEN_STATES)).limit(1)
    )


def propose(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """Propose the case's hand-over to the mission of origin; returns the hand-over's id."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ProposeHandoverSchema(today=mission_today(ctx.settings)), data)
        touch(case, ctx, values.pop("version"))
        if _open_handover(session, case.id) is not None:
            raise Invalid({"to_mission": [ALREADY_PROPOSED]})
        booking = return_to_hand_over(session, case.id)
        if booking is None:
            raise Invalid({"to_mission": [NO_RETURN]})
        missions = receiving_missions(ctx, booking.destination_country)
        if not missions:
            raise Invalid({"to_mission": [NOT_ENABLED_THERE]})
        if values["to_mission"] not in {m.code for m in missions}:
            raise Invalid({"to_mission": [NOT_A_RECEIVING_MISSION]})
        if consent_in_force(session, case.id, "HandOver") is None:
            raise Invalid({"consent": [NO_CONSENT]})  # said at the form's consent line, not at the mission
        person = case.person
        handover = Handover(
            from_mission=ctx.mission.code,
            to_mission=values["to_mission"],
            case_id=case.id,
            return_id=booking.id,
            record=_record_of(values, person, booking),
            child=is_child(
                person.birth_date if person else None,
                person.birth_date_precision if person else None,
                values["signs_of_minority"],
                booking.earliest_departure,
            ),
            state=PROPOSED,
            proposed_by=actor(ctx),
            arrived_at=booking.status_changed_at if booking.status == "ARRIVED" else None,
        )
        session.add(handover)
        session.flush()
        _event(session, ctx, handover, "proposed")
        audit.record(session, ctx, "handover.propose", case.id, ["handover"])
        return handover.id


def handovers_of_case(ctx: RequestContext, case_id: int) -> list[tuple[Handover, list[HandoverEvent]]]:
    """The case's hand-overs, newest first, each with its history (detached, for the proposing side's tab)."""
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        get_case(session, case_id)
        rows = session.scalars(
            sa.select(Handover).where(Handover.case_id == case_id).order_by(Handover.id.desc())
        ).all()
        found = [(row, _history(session, row.id)) for row in rows]
        session.expunge_all()
        return found


def _history(session: Session, handover_id: int) -> list[HandoverEvent]:
    return list(
        session.scalars(
            sa.select(HandoverEvent).where(HandoverEvent.handover_id == handover_id).order_by(HandoverEvent.id)
        )
    )


# -- the mission of origin -------------------------------------------------------------------


@dataclass
class Received:
    """A hand-over as the receiving mission sees it: the record, its history, its own case and task."""

    handover: Handover
    history: list[HandoverEvent]
    case: Case | None
    reception: ReceptionTask | None
    overdue: bool


def _received(session: Session, ctx: RequestContext, handover_id: int) -> Handover:
    """A hand-over addressed to this mission; :class:`NotFound` for any other, even the mission's own proposals."""
    handover = session.get(Handover, handover_id)
    if handover is None or handover.to_mission != ctx.mission.code:
        raise NotFound
    return handover


def inbox(ctx: RequestContext, now: datetime | None = None) -> list[Received]:
    """The hand-overs addressed to this mission, waiting ones first, then newest (detached)."""
    require(ctx, HANDOVER_ACCEPT)
    open_reception_tasks(ctx)
    with unit_of_work(ctx) as session:
        rows = session.scalars(
            sa.select(Handover)
            .where(Handover.to_mission == ctx.mission.code)
            .order_by((Handover.state == PROPOSED).desc(), Handover.id.desc())
        ).all()
        found = [_seen(session, ctx, row, now) for row in rows]
        audit.record(session, ctx, "handover.inbox.view", None, ["handover"])
        session.flush()
        session.expunge_all()
        return found


def received(ctx: RequestContext, handover_id: int, now: datetime | None = None) -> Received:
    """One hand-over addressed to this mission, with the view audited (detached)."""
    require(ctx, HANDOVER_ACCEPT)
    open_reception_tasks(ctx)
    with unit_of_work(ctx) as session:
        seen = _seen(session, ctx, _received(session, ctx, handover_id), now)
        audit.record(session, ctx, "handover.view", seen.handover.receiving_case_id, ["handover"])
        session.flush()
        session.expunge_all()
        return seen


def _seen(session: Session, ctx: RequestContext, handover: Handover, now: datetime | None) -> Received:
    case = session.get(Case, handover.receiving_case_id) if handover.receiving_case_id else None
    task = session.scalar(sa.select(ReceptionTask).where(ReceptionTask.handover_id == handover.id))
    return Received(handover, _history(session, handover.id), case, task, is_overdue(ctx, handover, task, now))


def is_overdue(ctx: RequestContext, handover: Handover, task: ReceptionTask | None, now: datetime | None) -> bool:
    """A reception not recorded within the mission's deadline of the arrival."""
    if task is None or task.recorded_at is not None or handover.arrived_at is None:
        return False
    deadline = handover.arrived_at + timedelta(hours=reception_deadline_hours(ctx.settings))
    return (now or utcnow()) > deadline


def accept(ctx: RequestContext, handover_id: int, data: dict[str, Any]) -> int:
    """Accept a hand-over: this mission's own case opens, filled from the record. Returns its id."""
    require(ctx, HANDOVER_ACCEPT)
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        handover = _received(session, ctx, handover_id)
        values = load(AcceptHandoverSchema(today=mission_today(ctx.settings)), data)
        _decidable(handover, values["version"])
        if values["opened_on"] < in_mission_time(handover.proposed_at, ctx.settings).date():
            raise Invalid({"opened_on": [OPENED_BEFORE_PROPOSAL]})
        if handover.child and not ctx.can(CHILD_PROTECTION):
            raise Invalid({"opened_on": [CHILD_NEEDS_PROTECTION]})
        record = handover.record
        case = new_case(session, ctx, f"{ON_NO_RECORD}{handover.id}", {"opened_on": values["opened_on"].isoformat()})
        assert case.person is not None  # new_case gives every case one
        case.person.gender = record.get("sex")
        case.person.birth_date = _day(record.get("birth_date"))
        case.person.birth_date_precision = "Day" if case.person.birth_date else "Unknown"
        case.person.languages = list(record.get("languages") or [])
        case.person.citizenships = [record["travel"]["destination_country"]]
        handover.state, handover.receiving_case_id = ACCEPTED, case.id
        handover.decided_by, handover.decided_at = actor(ctx), utcnow()
        session.flush()
        _event(session, ctx, handover, "accepted")
        if handover.arrived_at is not None:
            _open_task(session, ctx, handover)
        audit.record(session, ctx, "handover.accept", case.id, ["handover"])
        return case.id


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def decline(ctx: RequestContext, handover_id: int, data: dict[str, Any]) -> None:
    require(ctx, HANDOVER_ACCEPT)
    with unit_of_work(ctx) as session:
        handover = _received(session, ctx, handover_id)
        values = load(DeclineHandoverSchema(), data)
        _decidable(handover, values["version"])
        handover.state, handover.decline_reason = DECLINED, values["reason"]
        handover.decided_by, handover.decided_at = actor(ctx), utcnow()
        _event(session, ctx, handover, "declined", values["reason"])
        audit.record(session, ctx, "handover.decline", None, ["handover"])


def _decidable(handover: Handover, version: int) -> None:
    if handover.state != PROPOSED:
        raise MovedOn(NOT_PROPOSED)
    if handover.version != version:
        raise Conflict


# -- arrival and reception --------------------------------------------------------------------


def follow_return(session: Session, ctx: RequestContext, booking: ReturnBooking) -> None:
    """The feed changed the return: its open hand-over's record takes the movement and flights as they
    now are, and records the arrival (once) when the return ``ARRIVED``."""
    for handover in session.scalars(
        sa.select(Handover).where(Handover.return_id == booking.id, Handover.state.in_(OPEN_STATES))
    ):
        travel = {**handover.record["travel"], "movement_id": booking.movement_id, "legs": list(booking.legs or [])}
        handover.record = {**handover.record, "travel": travel}
        if booking.status == "ARRIVED" and handover.arrived_at is None:
            handover.arrived_at = booking.status_changed_at or utcnow()
            _event(session, ctx, handover, "arrived")
            audit.record(session, ctx, "handover.arrival", handover.case_id, ["handover"])


def open_reception_tasks(ctx: RequestContext) -> int:
    """Open this mission's reception task for each accepted hand-over whose person has arrived (once each)."""
    opened = 0
    with unit_of_work(ctx) as session:
        waiting = session.scalars(
            sa.select(Handover)
            .outerjoin(ReceptionTask, ReceptionTask.handover_id == Handover.id)
            .where(
                Handover.to_mission == ctx.mission.code,
                Handover.state == ACCEPTED,
                Handover.arrived_at.is_not(None),
                ReceptionTask.id.is_(None),
            )
        ).all()
        for handover in waiting:
            opened += _open_task(session, ctx, handover)
    return opened


def _open_task(session: Session, ctx: RequestContext, handover: Handover) -> int:
    """One reception task per hand-over: a second opening (two jobs at once) finds the first and adds nothing."""
    assert handover.receiving_case_id is not None  # an accepted hand-over has its case
    try:
        with session.begin_nested():
            session.add(
                ReceptionTask(
                    mission_code=ctx.mission.code, handover_id=handover.id, case_id=handover.receiving_case_id
                )
            )
            session.flush()
    except IntegrityError:
        return 0
    audit.record(session, ctx, "reception.open", handover.receiving_case_id, ["reception"])
    return 1


def record_reception(ctx: RequestContext, handover_id: int, data: dict[str, Any]) -> None:
    require(ctx, HANDOVER_ACCEPT)
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        handover = _received(session, ctx, handover_id)
        task = session.scalar(sa.select(ReceptionTask).where(ReceptionTask.handover_id == handover.id))
        if task is None:
            raise MovedOn(NO_RECEPTION_YET)
        if task.recorded_at is not None:
            raise MovedOn(ALREADY_RECEIVED)
        values = load(ReceptionSchema(today=mission_today(ctx.settings)), data)
        for name, value in values.items():
            setattr(task, name, value)
        task.recorded_by, task.recorded_at = actor(ctx), utcnow()
        _event(session, ctx, handover, "received")
        audit.record(session, ctx, "reception.record", task.case_id, ["reception"])
