"""MovementService, the status rules and the change feed.

Status rules: REQUESTED → BOOKED → CONFIRMED → DEPARTED → ARRIVED; CANCELLED from any state
before DEPARTED; NO_SHOW from CONFIRMED. :func:`transition` is the only way a movement's
status changes (SOAP, the CLI, the travel desk), and each change, the initial REQUESTED of a
booking included, appends one ``movement_change`` row in the same transaction.

The feed hands out changes by ``seq``, so a change must never commit after one with a
higher ``seq`` was read. Every transaction that appends changes first takes the write lock
of :mod:`.locks`, held until it ends: such transactions commit one at a time, in ``seq``
order, and a reader never skips a change still in flight. The token, ``"c"`` and the last
``seq`` handed out, lives in the database and survives restarts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from ..models import Beneficiary, Leg, Movement
from .call import Call, Caller
from .envelope import Fault
from .idempotency import idempotent
from .ids import next_id
from .locks import serialize_writes
from .messages import (
    E,
    children,
    find,
    fmt_bool,
    fmt_datetime,
    optional,
    parse_bool,
    parse_date,
    parse_datetime,
    required,
    required_text,
    serialise,
    text,
)
from .models import ClientRequest, MovementChange

NEXT = {
    "REQUESTED": {"BOOKED", "CANCELLED"},
    "BOOKED": {"CONFIRMED", "CANCELLED"},
    "CONFIRMED": {"DEPARTED", "CANCELLED", "NO_SHOW"},
    "DEPARTED": {"ARRIVED"},
}
_TOKEN = re.compile(r"c(0|[1-9][0-9]{0,17})")


class InvalidTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} cannot become {wanted}")
        self.current = current


# -- status rules and the feed ------------------------------------------------------------


def transition(
    session: Session,
    movement_id: str,
    new_status: str,
    legs: Sequence[Leg] | None = None,
    *,
    now: datetime,
    reason: str | None = None,
) -> MovementChange:
    """Move a movement to ``new_status`` (replacing its legs, if given) and record the change.

    :class:`LookupError` if there is no such movement, :class:`InvalidTransition` if the rules
    forbid it.
    """
    serialize_writes(session)
    movement = session.get(Movement, movement_id, with_for_update=True, populate_existing=True)
    if movement is None:
        raise LookupError(movement_id)
    if new_status not in NEXT.get(movement.status, ()):
        raise InvalidTransition(movement.status, new_status)
    if legs is not None:
        movement.legs.clear()
        session.flush()  # the old legs go before new ones take their sequence numbers
        movement.legs.extend(legs)
    movement.status = new_status
    movement.last_modified = now
    first = session.execute(
        sa.select(MovementChange.api_username, MovementChange.client_reference)
        .where(MovementChange.movement_id == movement_id)
        .order_by(MovementChange.seq)
        .limit(1)
    ).first()
    return _record(session, movement, *(first or (None, None)), now=now, legs=legs, reason=reason)


def book(session: Session, movement: Movement, api_username: str, client_reference: str, now: datetime) -> None:
    """Add a new movement as REQUESTED, under a host-assigned id, and record that first change."""
    movement.movement_id = next_id(session, Movement.movement_id, "MOV")  # from here on, under the write lock
    movement.status = "REQUESTED"
    movement.last_modified = now
    session.add(movement)
    session.flush()  # the movement row before its change row: no relationship orders them
    _record(session, movement, api_username, client_reference, now=now, legs=movement.legs or None, reason=None)


def _record(
    session: Session,
    movement: Movement,
    api_username: str | None,
    client_reference: str | None,
    *,
    now: datetime,
    legs: Sequence[Leg] | None,
    reason: str | None,
) -> MovementChange:
    change = MovementChange(
        movement_id=movement.movement_id,
        mission_code=movement.mission_code,
        api_username=api_username,
        client_reference=client_reference,
        status=movement.status,
        reason=reason,
        changed_at=now,
        legs=None if legs is None else [_leg_values(leg) for leg in legs],
    )
    session.add(change)
    session.flush()
    return change


# -- XML ----------------------------------------------------------------------------------


def _leg_values(leg: Leg) -> dict[str, Any]:
    """A leg as its XML values; also the JSON a change row keeps."""
    return {
        "Sequence": str(leg.sequence),
        "Carrier": leg.carrier,
        "FlightNumber": leg.flight_number,
        "From": leg.from_location,
        "To": leg.to_location,
        "Departure": fmt_datetime(leg.departure),
        "Arrival": fmt_datetime(leg.arrival),
    }


def _legs_xml(legs: Sequence[dict[str, Any]]) -> etree._Element:
    return E.Legs(*(E.Leg(*(getattr(E, name)(value) for name, value in leg.items())) for leg in legs))


def to_xml(m: Movement) -> etree._Element:
    return E.Movement(
        E.MovementId(m.movement_id),
        E.MissionCode(m.mission_code),
        *optional("ProjectCode", m.project_code),
        E.MovementType(m.movement_type),
        E.Beneficiaries(*(E.BeneficiaryId(i) for i in sorted(b.beneficiary_id for b in m.beneficiaries))),
        E.Origin(country=m.origin_country, location=m.origin_location),
        E.Destination(country=m.destination_country, location=m.destination_location),
        E.EarliestDeparture(m.earliest_departure.isoformat()),
        E.Escort(type=m.escort_type),
        E.FitToTravel(fmt_bool(m.fit_to_travel)),
        _legs_xml([_leg_values(leg) for leg in m.legs]),
        E.Status(m.status),
        *optional("Remarks", m.remarks),
    )


def _change_xml(change: MovementChange, caller: Caller) -> etree._Element:
    # A ClientReference is the booking caller's own key: no one else is shown it.
    reference = change.client_reference if change.api_username == caller.username else None
    return E.MovementChange(
        E.MovementId(change.movement_id),
        *optional("ClientReference", reference),
        E.Status(change.status),
        E.ChangedAt(fmt_datetime(change.changed_at)),
        *([] if change.legs is None else [_legs_xml(change.legs)]),
    )


def _legs_from(element: etree._Element | None) -> list[Leg]:
    legs = [
        Leg(
            sequence=int(required_text(leg, "Sequence")),
            carrier=text(leg, "Carrier"),
            flight_number=text(leg, "FlightNumber"),
            from_location=text(leg, "From"),
            to_location=text(leg, "To"),
            departure=parse_datetime(required_text(leg, "Departure"), "Departure"),
            arrival=parse_datetime(required_text(leg, "Arrival"), "Arrival"),
        )
        for leg in children(element, "Leg")
    ]
    if len({leg.sequence for leg in legs}) != len(legs):
        raise Fault("VALIDATION", "Two legs have the same Sequence", ["Sequence"])
    if any(leg.arrival <= leg.departure for leg in legs):
        raise Fault("VALIDATION", "A leg arrives before it departs", ["Arrival"])
    return legs


# -- operations ---------------------------------------------------------------------------


@idempotent
def book_movement(session: Session, call: Call) -> tuple[etree._Element, str]:
    spec = required(call.request, "MovementRequest")
    for name in ("MovementId", "Status"):
        if find(spec, name) is not None:
            raise Fault("VALIDATION", f"{name} is set by the host, not in a request", [name])
    mission = required_text(spec, "MissionCode")
    call.caller.require(mission, "MissionCode")
    ids = [el.text or "" for el in children(find(spec, "Beneficiaries"), "BeneficiaryId")]
    if len(set(ids)) != len(ids):
        raise Fault("VALIDATION", "A beneficiary is listed twice", ["BeneficiaryId"])
    found = session.scalars(sa.select(Beneficiary).where(Beneficiary.beneficiary_id.in_(ids)))
    people = {b.beneficiary_id: b for b in found}
    if len(people) != len(ids):
        raise Fault("NOT_FOUND", "No such beneficiary", ["BeneficiaryId"])
    if any(b.mission_code != mission for b in people.values()):
        raise Fault("VALIDATION", "Every beneficiary must belong to the movement's mission", ["BeneficiaryId"])
    origin, destination = required(spec, "Origin"), required(spec, "Destination")
    movement = Movement(
        mission_code=mission,
        project_code=text(spec, "ProjectCode"),
        movement_type=text(spec, "MovementType"),
        origin_country=origin.get("country"),
        origin_location=origin.get("location"),
        destination_country=destination.get("country"),
        destination_location=destination.get("location"),
        earliest_departure=parse_date(required_text(spec, "EarliestDeparture"), "EarliestDeparture"),
        escort_type=required(spec, "Escort").get("type"),
        fit_to_travel=parse_bool(required_text(spec, "FitToTravel")),
        remarks=text(spec, "Remarks"),
        beneficiaries=[people[i] for i in ids],
        legs=_legs_from(find(spec, "Legs")),
    )
    book(session, movement, call.caller.username, required_text(call.request, "ClientReference"), call.now)
    return E.BookMovementResponse(E.MovementId(movement.movement_id), E.Status(movement.status)), movement.movement_id


def get_movement(session: Session, call: Call) -> bytes:
    movement = call.caller.load(session, Movement, required_text(call.request, "MovementId"), "MovementId")
    return serialise(E.GetMovementResponse(to_xml(movement)))


def find_movement_by_reference(session: Session, call: Call) -> bytes:
    booking = session.scalar(
        sa.select(ClientRequest).where(
            ClientRequest.api_username == call.caller.username,
            ClientRequest.client_reference == text(call.request, "ClientReference"),
            ClientRequest.operation == "BookMovement",
        )
    )
    if booking is None:
        raise Fault("NOT_FOUND", "No movement was booked under this ClientReference", ["ClientReference"])
    movement = call.caller.load(session, Movement, booking.record_id, "ClientReference")
    answer = serialise(E.FindMovementByReferenceResponse(to_xml(movement)))
    if call.faults.take("unreadable_lookups"):  # a test-only fault: the answer cut off halfway
        return answer[: len(answer) // 2]
    return answer


def cancel_movement(session: Session, call: Call) -> bytes:
    movement = call.caller.load(session, Movement, required_text(call.request, "MovementId"), "MovementId")
    reason = text(call.request, "Reason")
    try:
        change = transition(session, movement.movement_id, "CANCELLED", now=call.now, reason=reason)
    except InvalidTransition as exc:
        raise Fault("INVALID_STATE", f"A {exc.current} movement cannot be cancelled", ["MovementId"]) from None
    return serialise(E.CancelMovementResponse(E.Status(change.status)))


def get_movement_changes(session: Session, call: Call) -> bytes:
    token = text(call.request, "SinceToken")
    match = _TOKEN.fullmatch(token or "c0")
    if match is None:
        raise Fault("VALIDATION", "SinceToken is not a token this host gave", ["SinceToken"])
    changes = session.scalars(
        sa.select(MovementChange)
        .where(MovementChange.seq > int(match.group(1)), MovementChange.mission_code.in_(sorted(call.caller.missions)))
        .order_by(MovementChange.seq)
        .limit(int(required_text(call.request, "MaxChanges")))
    ).all()
    items = [_change_xml(change, call.caller) for change in changes]
    if items and call.faults.take("duplicate_changes"):
        items.insert(0, _change_xml(changes[0], call.caller))
    next_token = f"c{changes[-1].seq}" if changes else (token or "c0")
    return serialise(E.GetMovementChangesResponse(E.NextToken(next_token), *items))


OPERATIONS = {
    "BookMovement": book_movement,
    "GetMovement": get_movement,
    "FindMovementByReference": find_movement_by_reference,
    "CancelMovement": cancel_movement,
    "GetMovementChanges": get_movement_changes,
}
