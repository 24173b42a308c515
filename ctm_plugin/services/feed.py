"""The movement status feed: each change from the host applied exactly once, in order.

The position (the host's change token) and every applied change are written in the same
transaction as the returns they update, so a crash re-reads at most one batch, and a change
the host delivers twice finds itself in the inbox and changes nothing. A change must be about
the booking it names: a movement id and a reference that point at different bookings are refused.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import HostClient, MovementChange
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import MOVEMENT_FEED, OUTBOX_GIVEN_UP, AppliedChange, FeedPosition, OutboxMessage
from ctm_plugin.security import audit
from mimosa_host.plugin_api import RequestContext

from . import handover
from .base import unit_of_work
from .host import host_client

BATCH = 500
log = logging.getLogger(__name__)


def apply_movement_changes(ctx: RequestContext, client: HostClient | None = None) -> int:
    """Read the feed from the stored token to its end; returns how many changes were applied."""
    applied = 0
    while True:
        with unit_of_work(ctx) as session:
            client = client or host_client(session)
            position = position_of(session, ctx, MOVEMENT_FEED)
        batch = client.get_movement_changes(since_token=position.position, max_changes=BATCH)
        with unit_of_work(ctx) as session:
            position = position_of(session, ctx, MOVEMENT_FEED)
            for change in batch.changes:
                applied += _apply_once(session, ctx, change)
            position.position = batch.next_token
            position.updated_at = utcnow()  # read, changed or not: /metrics' feed lag counts from here
        if len(batch.changes) < BATCH:
            return applied


def in_flight(ctx: RequestContext) -> bool:
    """Whether a return of the mission awaits its BOOKED (queued or requested, and not given up)."""
    with unit_of_work(ctx) as session:
        query = (
            sa.select(ReturnBooking.id)
            .join(ReturnBooking.outbox)
            .where(
                sa.or_(ReturnBooking.status.is_(None), ReturnBooking.status == "REQUESTED"),
                OutboxMessage.status.not_in(OUTBOX_GIVEN_UP),
            )
            .limit(1)
        )
        return session.scalar(query) is not None


def position_of(session: Session, ctx: RequestContext, feed: str) -> FeedPosition:
    position = session.scalar(sa.select(FeedPosition).where(FeedPosition.feed == feed))
    if position is None:
        position = FeedPosition(mission_code=ctx.mission.code, feed=feed)
        session.add(position)
    return position


def _apply_once(session: Session, ctx: RequestContext, change: MovementChange) -> int:
    booking = _booking_of(session, change)
    if booking is None:
        return 0  # a movement the CTM did not book, or a change that contradicts what the CTM knows
    key = f"{change.movement_id}|{change.status}|{change.changed_at.isoformat()}"
    if session.scalar(
        sa.select(AppliedChange.id).where(AppliedChange.feed == MOVEMENT_FEED, AppliedChange.change_key == key)
    ):
        return 0
    session.add(AppliedChange(mission_code=ctx.mission.code, feed=MOVEMENT_FEED, change_key=key))
    booking.movement_id = change.movement_id
    booking.status, booking.status_changed_at = change.status, change.changed_at
    if change.legs:
        booking.legs = change.legs
    handover.follow_return(session, ctx, booking)
    audit.record(session, ctx, "return.status", booking.case_id, ["return"])
    return 1


def _booking_of(session: Session, change: MovementChange) -> ReturnBooking | None:
    """The booking the change is about: found by its movement id or our reference, and consistent with both.

    A change whose movement id and reference point at different bookings (or whose reference is
    another movement's) is about something the CTM did not ask for: it is refused, nothing written.
    """
    matches = session.scalars(
        sa.select(ReturnBooking)
        .join(ReturnBooking.outbox)
        .where(
            sa.or_(
                ReturnBooking.movement_id == change.movement_id,
                OutboxMessage.client_reference == change.client_reference,
            )
        )
    ).all()
    if not matches:
        return None
    booking = matches[0]
    reference = booking.outbox.client_reference
    consistent = (
        len(matches) == 1
        and booking.movement_id in (None, change.movement_id)
        and change.client_reference in (None, reference)
    )
    if not consistent:
        log.warning("a movement change was refused: its movement and reference belong to different bookings")
        return None
    return booking
