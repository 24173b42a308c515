"""The reference host's travel desk: it books what the SOAP services' callers requested.

A movement booked through MovementService and still REQUESTED after :data:`DELAY` becomes
BOOKED, with one or two made-up flights departing on or after its EarliestDeparture (and
not before tomorrow). Only ``mimosa-host serve --demo`` runs it, every few seconds, so
that a demo booking moves on; tests call :func:`book_requested` themselves. The demo's own
seeded movements are left as they are.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ..db import transaction
from ..logs import exception_summary
from ..models import Leg, Movement, utcnow
from .models import MovementChange
from .movements import InvalidTransition, transition

log = logging.getLogger(__name__)

DELAY = timedelta(seconds=10)
HUBS = ("DOH", "SIN")
CARRIER = "Demo Air"


def flights(movement: Movement, now: datetime) -> list[Leg]:
    """A direct flight, or two through a hub (for every other movement): made up, never real."""
    day = max(movement.earliest_departure, now.date() + timedelta(days=1))
    departure = datetime.combine(day, time(8), UTC)
    number = int(movement.movement_id.removeprefix("MOV-")) % 900 + 100
    origin, destination = movement.origin_location, movement.destination_location
    if number % 2:
        stops = [(origin, destination)]
    else:
        hub = next(h for h in HUBS if h not in (origin, destination))
        stops = [(origin, hub), (hub, destination)]
    legs = []
    for sequence, (start, end) in enumerate(stops, start=1):
        arrival = departure + timedelta(hours=3)
        legs.append(
            Leg(
                sequence=sequence,
                carrier=CARRIER,
                flight_number=f"DA{number}{sequence}",
                from_location=start,
                to_location=end,
                departure=departure,
                arrival=arrival,
            )
        )
        departure = arrival + timedelta(hours=2)
    return legs


def book_requested(factory: sessionmaker[Session], now: datetime, delay: timedelta = DELAY) -> list[str]:
    """Book every SOAP-requested movement waiting longer than ``delay``; the ids booked."""
    with factory() as s:
        waiting = s.scalars(
            sa.select(Movement.movement_id)
            .where(
                Movement.status == "REQUESTED",
                Movement.last_modified <= now - delay,
                sa.exists().where(MovementChange.movement_id == Movement.movement_id),
            )
            .order_by(Movement.movement_id)
        ).all()
    booked = []
    for movement_id in waiting:
        try:
            with transaction(factory) as s:
                transition(s, movement_id, "BOOKED", flights(s.get_one(Movement, movement_id), now), now=now)
        except InvalidTransition:
            continue  # cancelled meanwhile
        booked.append(movement_id)
    return booked


def run_forever(factory: sessionmaker[Session], stop: threading.Event, tick: float = 3.0) -> None:
    """:func:`book_requested` every ``tick`` seconds until ``stop`` is set; a failing round is logged."""
    while not stop.wait(tick):
        try:
            book_requested(factory, utcnow())
        except Exception as exc:  # noqa: BLE001 - e.g. the database is briefly unreachable: try again next tick
            log.error("the travel desk's round failed: %s", exception_summary(exc))
