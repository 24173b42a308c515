"""Booking a voluntary return: the booking and its outbox message are one transaction.

What leaves for the host is built by the movement mapping from the booking alone: travel
facts, the project (one of the mission's project codes) and the host's ``BeneficiaryId``.
Nothing of the case (exploitation, perpetrators, health beyond fitness to travel) is within its
reach, and ``Remarks`` is never filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa import records
from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import (
    OUT_DONE,
    OUT_UNKNOWN,
    OUTBOX_GIVEN_UP,
    OutboxMessage,
    Sent,
    new_reference,
)
from ctm_plugin.i18n import N_
from ctm_plugin.mappings.engine import Mapping
from ctm_plugin.schemas.mission_settings import project_codes
from ctm_plugin.schemas.returns import NOT_A_PROJECT, ReturnBookingSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_VIEW, RETURN_BOOK
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, get_case, load, require, touch, unit_of_work
from .host import host_beneficiary_id, mappings
from .preparation import ready_to_book

BOOK_MOVEMENT = "BookMovement"
NOT_IN_HOST = N_("The person is not in the host's records yet: a return cannot be booked.")
NO_PROJECTS = N_("The mission's CTM settings list no project code: a mission administrator adds them first.")
ALREADY = N_("A return is already booked for this person.")
ALREADY_IN_DOUBT = N_(
    "A return booked for this person is in doubt: the host may hold it. The CTM is checking with the host; "
    "no other return can be booked meanwhile."
)
ENDED = ("CANCELLED", "ARRIVED", "NO_SHOW")
"""Host statuses after which another return may be booked."""


def book_return(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """Save the booking and queue ``BookMovement``; the relay job sends it. Returns the booking's id."""
    require(ctx, RETURN_BOOK)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReturnBookingSchema(today=mission_today(ctx.settings)), data)
        touch(case, ctx, values.pop("version"))
        _check_project(ctx, values["project_code"])
        beneficiary_id = host_beneficiary_id(session, case)
        if beneficiary_id is None:
            raise Invalid({"origin_country": [NOT_IN_HOST]})
        if (open_return := _open_return(session, case.id)) is not None:
            raise Invalid(
                {"earliest_departure": [ALREADY_IN_DOUBT if open_return.outbox.status == OUT_UNKNOWN else ALREADY]}
            )
        prepared = ready_to_book(ctx, session, case, values["earliest_departure"])
        if prepared.child:
            values["escort"] = "CHILD"  # the host learns that a child travels, with an escort
        mapping = mappings(session)["movement"]
        record = {
            **values,
            "mission_code": ctx.mission.code,
            "movement_type": "AVRR",
            "beneficiary_ids": [beneficiary_id],
        }
        message = OutboxMessage(
            mission_code=ctx.mission.code,
            case_id=case.id,
            operation=BOOK_MOVEMENT,
            client_reference=new_reference(),
            payload=records.request_text(mapping, record),
            mapping_id=mapping.id,
            mapping_version=str(mapping.version),
            created_by=actor(ctx),
        )
        booking = ReturnBooking(
            mission_code=ctx.mission.code, case_id=case.id, outbox=message, booked_by=actor(ctx), **values
        )
        session.add(booking)
        session.flush()
        if prepared.preparation is not None:  # the preparation is the booking's now; the next return starts anew
            prepared.preparation.return_id = booking.id
            session.add(prepared.preparation)
        audit.record(session, ctx, "return.book", case.id, ["return"])
        return booking.id


def _check_project(ctx: RequestContext, code: str) -> None:
    """The host books under one of the mission's projects, as its CTM settings list them."""
    codes, _default = project_codes(ctx.settings)
    if not codes:
        raise Invalid({"project_code": [NO_PROJECTS]})
    if code not in codes:
        raise Invalid({"project_code": [NOT_A_PROJECT]})


def _open_return(session: sa.orm.Session, case_id: int) -> ReturnBooking | None:
    """A return still under way: neither ended at the host nor given up on this side.

    A booking in doubt (``unknown``) is under way: the host may hold it, and the relay never
    turns a doubt into a failure by itself.
    """
    return session.scalar(
        sa.select(ReturnBooking).join(ReturnBooking.outbox).where(ReturnBooking.case_id == case_id, going()).limit(1)
    )


def going(ended: tuple[str, ...] = ENDED) -> sa.ColumnElement[bool]:
    """A return (joined with its outbox message) neither ended at the host, by one of ``ended``, nor
    given up on this side."""
    return sa.and_(
        sa.or_(ReturnBooking.status.is_(None), ReturnBooking.status.not_in(ended)),
        OutboxMessage.status.not_in(OUTBOX_GIVEN_UP),
    )


def return_under_way(ctx: RequestContext, case_id: int) -> bool:
    """Whether a return of the case is under way (no other may be booked, nor prepared meanwhile)."""
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        return _open_return(session, get_case(session, case_id).id) is not None


def returns_of_case(ctx: RequestContext, case_id: int) -> list[ReturnBooking]:
    """The case's returns, newest first, with their outbox messages loaded (detached, for a page)."""
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        get_case(session, case_id)
        rows = session.scalars(
            sa.select(ReturnBooking)
            .options(sa.orm.selectinload(ReturnBooking.outbox))
            .where(ReturnBooking.case_id == case_id)
            .order_by(ReturnBooking.booked_at.desc(), ReturnBooking.id.desc())
        ).all()
        session.expunge_all()
        return list(rows)


# -- the relay's side: sending BookMovement and applying what the host answered ---------------


def send_booking(client: HostClient, message: OutboxMessage, _in_force: dict[str, Mapping]) -> Sent:
    """``BookMovement`` with the request the mapping built when the return was booked."""
    booked = client.book_movement(message.payload, message.client_reference)
    return Sent({"movement_id": booked.movement_id, "status": booked.status})


def find_booking(client: HostClient, message: OutboxMessage) -> dict[str, Any] | None:
    """The host's movement for our reference, if it booked one (and only if it is this booking's)."""
    movement = client.find_movement_by_reference(message.client_reference, message.payload)
    return None if movement is None else {"movement_id": movement.movement_id, "status": movement.status}


def apply_bookings(session: Session, messages: Sequence[OutboxMessage]) -> None:
    """Each booked message's movement on its return, the returns read in one query."""
    done = {message.id: message for message in messages if message.status == OUT_DONE}
    if not done:
        return  # a failure shows through the outbox row
    for booking in session.scalars(sa.select(ReturnBooking).where(ReturnBooking.outbox_id.in_(done))):
        if booking.movement_id is not None:
            continue  # the feed may have been first with the id
        result = done[booking.outbox_id].result
        assert result is not None  # a message is done with the host's answer
        booking.movement_id = result["movement_id"]
        booking.status = booking.status or result["status"]
        booking.status_changed_at = booking.status_changed_at or utcnow()
