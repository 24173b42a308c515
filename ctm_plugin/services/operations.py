"""The outbox's operations, declared in one place: for each, how the relay sends a message, asks
the host whether it already has it, and applies the host's answer to the records waiting for it;
for some, what must be true before it may be sent at all (a cancellation waits for its movement).

The modules that queue a message (returns, cancellations, people) provide the functions; only this registry
says which operation they serve, so the relay knows every operation whatever was imported first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.domain.sync import Hold, OutboxMessage, Sent
from ctm_plugin.mappings.engine import Mapping

from . import cancellations, people, returns


@dataclass(frozen=True)
class Operation:
    send: Callable[[HostClient, OutboxMessage, dict[str, Mapping]], Sent]
    """Send the message with the mission's mappings in force."""
    apply: Callable[[Session, Sequence[OutboxMessage]], None]
    """Apply each message's result (``message.result``) or failure to the records that wait for it: the
    relay hands over a batch's settled messages of the operation at once (one query for the batch)."""
    lookup: Callable[[HostClient, OutboxMessage], dict | None] | None = None
    """Ask the host whether it already acted on the message (has the reference, holds the
    cancellation): what it holds, or ``None`` when it has not."""
    prepare: Callable[[Session, OutboxMessage], Hold | None] | None = None
    """Before each send, in a transaction: complete the message from the records, or hold it."""
    audited_as: tuple[str, str] | None = None
    """The case's audit action (``.<state>`` appended) and field group of each outcome."""
    mapped_at_send: bool = False
    """``send`` maps the payload with the mappings in force (the relay loads them only for such a message)."""
    payload_kept: bool = False
    """The payload holds codes only, no one's data, and the case's history reads it: retention keeps it
    (services/retention.py erases every other final message's payload)."""


def each(apply_one: Callable[[Session, OutboxMessage], None]) -> Callable[[Session, Sequence[OutboxMessage]], None]:
    """An ``apply`` that applies one message at a time (an operation rare enough to need no batch query)."""

    def apply(session: Session, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            apply_one(session, message)

    return apply


OPERATIONS: dict[str, Operation] = {
    returns.BOOK_MOVEMENT: Operation(
        send=returns.send_booking, apply=returns.apply_bookings, lookup=returns.find_booking
    ),
    people.SAVE_BENEFICIARY: Operation(send=people.send_person, apply=each(people.apply_person), mapped_at_send=True),
    cancellations.CANCEL_MOVEMENT: Operation(
        send=cancellations.send_cancellation,
        apply=each(cancellations.apply_cancellation),
        lookup=cancellations.find_cancellation,
        prepare=cancellations.prepare_cancellation,
        audited_as=("return.cancel", "return"),
        payload_kept=True,  # the return, the movement and the reason's code, shown under the return
    ),
}
