"""Booking a voluntary return: the booking and its outbox message are one transaction.

What leaves for the host is built by the movement mapping from the booking alone: travel
facts and the host's ``BeneficiaryId``. Nothing of the case (exploitation, perpetrators,
health beyond fitness to travel) is within its reach, and ``Remarks`` is never filled.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import HOST_NS, HostClient
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OUT_DEAD, OUT_DISCARDED, OUT_DONE, OUT_FAILED, OutboxMessage
from ctm_plugin.i18n import N_
from ctm_plugin.mappings.engine import Mapping, map_out
from ctm_plugin.schemas.returns import ReturnBookingSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_VIEW, RETURN_BOOK
from ctm_plugin.security.xml import parse
from mimosa_host.plugin_api import RequestContext

from .assistance import consent_in_force
from .base import Invalid, get_case, load, require, touch, unit_of_work
from .host import host_beneficiary_id, mappings
from .outbox import OPERATIONS, Operation, new_reference

BOOK_MOVEMENT = "BookMovement"
NOT_IN_HOST = N_("The person is not in the host's records yet: a return cannot be booked.")
ENDED = ("CANCELLED", "ARRIVED", "NO_SHOW")
"""Host statuses after which another return may be booked."""


def book_return(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """Save the booking and queue ``BookMovement``; the relay job sends it. Returns the booking's id."""
    require(ctx, RETURN_BOOK)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReturnBookingSchema(), data)
        touch(case, ctx, values.pop("version"))
        beneficiary_id = host_beneficiary_id(session, case)
        if beneficiary_id is None:
            raise Invalid({"origin_country": [NOT_IN_HOST]})
        if consent_in_force(session, case.id, "Return") is None:
            raise Invalid({"earliest_departure": [N_("The person's consent to a voluntary return is not in force.")]})
        if _open_return(session, case.id) is not None:
            raise Invalid({"earliest_departure": [N_("A return is already booked for this person.")]})
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
            payload=etree.tostring(map_out(mapping, record), encoding="unicode"),
            mapping_id=mapping.id,
            mapping_version=str(mapping.version),
            created_by=actor(ctx),
        )
        booking = ReturnBooking(
            mission_code=ctx.mission.code, case_id=case.id, outbox=message, booked_by=actor(ctx), **values
        )
        session.add(booking)
        session.flush()
        audit.record(session, ctx, "return.book", case.id, ["return"])
        return booking.id


def _open_return(session: sa.orm.Session, case_id: int) -> ReturnBooking | None:
    """A return still under way: neither ended at the host nor given up on this side."""
    return session.scalar(
        sa.select(ReturnBooking)
        .join(ReturnBooking.outbox)
        .where(
            ReturnBooking.case_id == case_id,
            sa.or_(ReturnBooking.status.is_(None), ReturnBooking.status.not_in(ENDED)),
            OutboxMessage.status.not_in((OUT_FAILED, OUT_DEAD, OUT_DISCARDED)),
        )
        .limit(1)
    )


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


def _send(client: HostClient, message: OutboxMessage, _in_force: dict[str, Mapping]) -> dict[str, Any]:
    booked = client.book_movement(parse(message.payload.encode()), message.client_reference)
    return {"movement_id": booked.movement_id, "status": booked.status}


def _lookup(client: HostClient, message: OutboxMessage) -> dict[str, Any] | None:
    """After a lost reply: the host's movement for our reference, if it booked one."""
    movement = client.find_movement_by_reference(message.client_reference)
    if movement is None:
        return None
    return {
        "movement_id": movement.findtext(f"{{{HOST_NS}}}MovementId"),
        "status": movement.findtext(f"{{{HOST_NS}}}Status"),
    }


def _apply(session: Session, message: OutboxMessage) -> None:
    booking = session.scalar(sa.select(ReturnBooking).where(ReturnBooking.outbox_id == message.id))
    if booking is None or message.status != OUT_DONE or booking.movement_id is not None:
        return  # a failure shows through the outbox row; the feed may have been first with the id
    assert message.result is not None  # a message is done with the host's answer
    booking.movement_id = message.result["movement_id"]
    booking.status = booking.status or message.result["status"]
    booking.status_changed_at = booking.status_changed_at or utcnow()


OPERATIONS[BOOK_MOVEMENT] = Operation(send=_send, apply=_apply, lookup=_lookup)
