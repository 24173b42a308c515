"""Cancelling a return: ``CancelMovement`` through the outbox, as exactly once as the booking.

The contract gives a cancellation no client reference; what keeps it to one is the host's status
rules (a movement is cancelled at most once, and cancelling it again is ``INVALID_STATE``):

- The message waits, unsent, until its booking has the host's ``MovementId``: a booking in
  doubt is reconciled first. One whose booking never reached the host fails (``NOT_BOOKED``).
- A cancellation in doubt is asked about (``GetMovement``) before it is sent again, and so is an
  ``INVALID_STATE``: a movement already ``CANCELLED`` means it is done; any other state
  (``DEPARTED``, ``NO_SHOW``...) is the host's refusal, kept with the status the host gave.

The cancellation is its outbox message: the payload names the return, the reason and, once
known, the movement; its state is the message's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import (
    OUT_DONE,
    OUT_FAILED,
    OUT_SENDING,
    OUTBOX_GIVEN_UP,
    OUTBOX_OPEN,
    PAYLOAD_JSON,
    Hold,
    OutboxMessage,
    Sent,
    new_reference,
)
from ctm_plugin.i18n import N_
from ctm_plugin.mappings.engine import Mapping
from ctm_plugin.schemas.returns import CancelReturnSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_VIEW, RETURN_BOOK
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, NotFound, get_case, load, require, touch, unit_of_work
from .returns import ENDED

CANCEL_MOVEMENT = "CancelMovement"
CANCELLED = "CANCELLED"
TOO_LATE = ("DEPARTED", *ENDED)
"""Host statuses of a return that can no longer be cancelled."""
"""A message in one of these states is not on its way to the host."""
NOT_BOOKED = "NOT_BOOKED"
AWAITING_MOVEMENT = "AWAITING_MOVEMENT"

NEVER_BOOKED = N_("This return never reached the host: there is nothing to cancel.")
NO_LONGER = N_("This return has departed or ended: it can no longer be cancelled.")
UNDER_WAY = N_("A cancellation of this return is already on its way to the host.")


@dataclass(frozen=True)
class Cancellation:
    """A return's cancellation as the Return tab shows it: its outbox message, read."""

    return_id: int
    reason: str
    status: str
    """The outbox message's state."""
    waiting: bool
    """Open, and held until the booking has the host's movement id."""
    host_status: str | None
    """The movement's status the host gave when it refused (``INVALID_STATE``)."""
    error_code: str | None
    error: str | None
    requested_by: str
    requested_at: datetime


def cancel_return(ctx: RequestContext, case_id: int, return_id: int, data: dict[str, Any]) -> int:
    """Queue ``CancelMovement`` for the return with the reason chosen; the relay sends it. Returns the message's id."""
    require(ctx, RETURN_BOOK)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        booking = session.get(ReturnBooking, return_id)
        if booking is None or booking.case_id != case.id:
            raise NotFound
        values = load(CancelReturnSchema(), data)
        touch(case, ctx, values["version"])
        if (refused := refusal(booking, _of_case(session, case.id).get(booking.id))) is not None:
            raise Invalid({"reason": [refused]})
        message = OutboxMessage(
            mission_code=ctx.mission.code,
            case_id=case.id,
            operation=CANCEL_MOVEMENT,
            client_reference=new_reference(),  # the CTM's own key: the contract takes none for a cancellation
            payload=json.dumps(
                {"return_id": booking.id, "movement_id": booking.movement_id, "reason": values["reason"]}
            ),
            payload_kind=PAYLOAD_JSON,
            mapping_id=booking.outbox.mapping_id,  # nothing is mapped: the movement's mapping, as booked
            mapping_version=booking.outbox.mapping_version,
            created_by=actor(ctx),
        )
        session.add(message)
        session.flush()
        audit.record(session, ctx, "return.cancel", case.id, ["return"])
        return message.id


def refusal(booking: ReturnBooking, latest: Cancellation | None) -> str | None:
    """Why the return cannot be cancelled now (a msgid), or ``None`` when it can."""
    if booking.outbox.status in OUTBOX_GIVEN_UP:
        return NEVER_BOOKED
    if booking.status in TOO_LATE:
        return NO_LONGER
    if latest is not None and latest.status not in OUTBOX_GIVEN_UP:
        return UNDER_WAY
    return None


def cancellations_of_case(ctx: RequestContext, case_id: int) -> dict[int, Cancellation]:
    """The latest cancellation of each of the case's returns that has one, by return id."""
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        get_case(session, case_id)
        return _of_case(session, case_id)


def _of_case(session: Session, case_id: int) -> dict[int, Cancellation]:
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.case_id == case_id, OutboxMessage.operation == CANCEL_MOVEMENT)
        .order_by(OutboxMessage.id)
    ).all()
    latest = {}
    for message in messages:
        values = json.loads(message.payload)
        result = message.result or {}
        latest[values["return_id"]] = Cancellation(
            return_id=values["return_id"],
            reason=values["reason"],
            status=message.status,
            waiting=message.status in OUTBOX_OPEN and values["movement_id"] is None,
            host_status=result.get("status") if message.status == OUT_FAILED else None,
            error_code=message.error_code,
            error=message.error,
            requested_by=message.created_by,
            requested_at=message.created_at,
        )
    return latest


# -- the relay's side -------------------------------------------------------------------------


def prepare_cancellation(session: Session, message: OutboxMessage) -> Hold | None:
    """Name the movement once the booking has it; until then the message waits for the booking."""
    values = json.loads(message.payload)
    if values["movement_id"] is not None:
        return None
    booking = session.get(ReturnBooking, values["return_id"])
    if booking is None or booking.outbox.status in OUTBOX_GIVEN_UP:
        return Hold(NOT_BOOKED)
    if booking.movement_id is not None:
        message.payload = json.dumps({**values, "movement_id": booking.movement_id})
        return None
    booking_message = booking.outbox
    # Look again once the booking's own next try is over (the relay sends in the order queued).
    until = booking_message.lease_until if booking_message.status == OUT_SENDING else None
    return Hold(AWAITING_MOVEMENT, until or booking_message.next_attempt_at)


def send_cancellation(client: HostClient, message: OutboxMessage, _in_force: dict[str, Mapping]) -> Sent:
    """``CancelMovement``; refused as ``INVALID_STATE``, the movement's status decides (done if cancelled)."""
    values = json.loads(message.payload)
    movement_id = values["movement_id"]
    try:
        status = client.cancel_movement(movement_id, values["reason"])
    except HostFault as fault:
        if fault.code != "INVALID_STATE":
            raise
        status = client.get_movement(movement_id).status
        if status != CANCELLED:
            fault.details = {"status": status}  # the host's refusal, with where the movement stands
            raise
    return Sent({"movement_id": movement_id, "status": status})


def find_cancellation(client: HostClient, message: OutboxMessage) -> dict[str, Any] | None:
    """The movement, if the host holds it cancelled already."""
    movement_id = json.loads(message.payload)["movement_id"]
    if movement_id is None:
        return None  # never sent
    movement = client.get_movement(movement_id)
    return {"movement_id": movement_id, "status": CANCELLED} if movement.status == CANCELLED else None


def apply_cancellation(session: Session, message: OutboxMessage) -> None:
    """A cancellation done shows at once; the host's feed brings the same status with its time."""
    if message.status != OUT_DONE:
        return  # a refusal shows through the message
    booking = session.get(ReturnBooking, json.loads(message.payload)["return_id"])
    if booking is not None and booking.status != CANCELLED:
        booking.status, booking.status_changed_at = CANCELLED, utcnow()
