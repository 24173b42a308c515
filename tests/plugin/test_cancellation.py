"""Cancelling a return through the outbox, against both hosts over real HTTP (``exchange_host``):
each movement is cancelled at the host once, whatever is lost on the way; a cancellation waits for
a booking in doubt; a movement the host already holds cancelled counts as done; a departed one is
the host's refusal, kept and shown. What is read on the host's side goes through
``tests/plugin/exchange_hosts.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from test_exactly_once import Clock, add_people, chaos, relay_until_quiet
from world import World

from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.schemas.base import NOT_IN_LIST
from ctm_plugin.services import cancellations, feed, outbox, returns
from ctm_plugin.services.base import Invalid, NotFound
from mimosa_host.demo import api_credentials

THA_PERSON = "BEN-1000001"
CANCELLATIONS = 24


def later(minutes: int = 30):  # noqa: ANN201
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


@pytest.fixture
def case(w: World) -> int:
    case_id = w.open(THA_PERSON)
    w.prepare(case_id)
    return case_id


@pytest.fixture
def booked(w: World, case: int) -> int:
    return returns.book_return(w.ctx("movement"), case, w.booking_form(case))


def cancel(w: World, booking_id: int, reason: str = "BENEFICIARY_WITHDREW", user: str = "movement") -> int:
    case_id = w.one(ReturnBooking, id=booking_id).case_id
    return cancellations.cancel_return(
        w.ctx(user), case_id, booking_id, {"version": w.version(case_id), "reason": reason}
    )


def sent_then_cancelled(w: World, booking_id: int) -> str:
    """The booking relayed to the host, then its cancellation asked; the host's movement id."""
    w.relay()
    cancel(w, booking_id)
    return w.one(ReturnBooking, id=booking_id).movement_id


def the_cancellation(w: World) -> OutboxMessage:
    return w.one(OutboxMessage, operation="CancelMovement")


def cancelled_once(host, movement_id: str) -> bool:  # noqa: ANN001 - an exchange host
    return host.transitions(movement_id).count("CANCELLED") == 1 and host.movement(movement_id).status == "CANCELLED"


# -- through the relay, against both hosts ----------------------------------------------------------


def test_a_cancellation_reaches_the_host_once_and_the_return_reads_cancelled(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
) -> None:
    assert w.relay().done == 1
    movement_id = w.one(ReturnBooking, id=booked).movement_id
    cancel(w, booked, "NOT_FIT_TO_TRAVEL")
    assert w.relay().done == 1
    assert cancelled_once(exchange_host, movement_id)
    assert w.one(ReturnBooking, id=booked).status == "CANCELLED"
    feed.apply_movement_changes(w.job_ctx())  # the host's feed says the same, with its own time
    assert w.one(ReturnBooking, id=booked).status == "CANCELLED"
    actions = [row["action"] for row in w.audit_rows() if row["action"].startswith("return.cancel")]
    assert actions == ["return.cancel", "return.cancel.done"]


def test_a_cancellation_waits_for_a_booking_in_doubt_then_goes_once(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
) -> None:
    seeded = {m.movement_id for m in exchange_host.movements_for(THA_PERSON)}
    exchange_host.faults.drop_reply = 1
    w.relay()  # the host booked it; its reply was lost
    assert w.one(OutboxMessage, operation="BookMovement").status == "unknown"
    cancel(w, booked)
    assert cancellations.cancellations_of_case(w.ctx("movement"), w.one(ReturnBooking, id=booked).case_id)[
        booked
    ].waiting
    exchange_host.faults.unreadable_lookups = 1  # the booking stays in doubt one more round
    report = w.relay(now=later())
    assert report.outcomes[the_cancellation(w).client_reference] == "pending"
    (movement,) = [m for m in exchange_host.movements_for(THA_PERSON) if m.movement_id not in seeded]
    assert exchange_host.transitions(movement.movement_id) == ["REQUESTED"]  # not sent: nothing to name yet
    assert the_cancellation(w).attempts == 0  # waiting is not an attempt
    assert w.relay(now=later(60)).done == 2  # the booking is reconciled, then the cancellation goes
    assert cancelled_once(exchange_host, movement.movement_id)
    assert w.one(ReturnBooking, id=booked).movement_id == movement.movement_id


@pytest.fixture
def lost_reply(w: World, booked: int, exchange_host) -> str:  # noqa: ANN001
    """A cancellation the host carried out, whose reply was lost: in doubt. The movement's id."""
    movement_id = sent_then_cancelled(w, booked)
    exchange_host.faults.drop_reply = 1
    assert w.relay().in_doubt == 1
    assert cancelled_once(exchange_host, movement_id) and the_cancellation(w).status == "unknown"
    return movement_id


def test_a_lost_reply_is_asked_about_and_a_movement_already_cancelled_counts_as_done(
    w: World,
    lost_reply: str,
    exchange_host,  # noqa: ANN001
) -> None:
    assert w.relay(now=later()).done == 1  # asked (GetMovement): already cancelled, not sent again
    assert cancelled_once(exchange_host, lost_reply) and the_cancellation(w).status == "done"


def test_discarding_a_cancellation_in_doubt_the_host_carried_out_adopts_it(
    w: World,
    booked: int,
    lost_reply: str,
    exchange_host,  # noqa: ANN001
) -> None:
    assert outbox.discard(w.ctx("integrator"), the_cancellation(w).id) == "done"  # asked first: it is cancelled
    assert w.one(ReturnBooking, id=booked).status == "CANCELLED" and cancelled_once(exchange_host, lost_reply)


def test_invalid_state_with_the_movement_already_cancelled_is_done_not_failed(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
) -> None:
    movement_id = sent_then_cancelled(w, booked)
    exchange_host.advance(movement_id, "CANCELLED")  # cancelled at the host's own desk meanwhile
    assert w.relay().done == 1  # CancelMovement answers INVALID_STATE; the host's movement says cancelled
    assert cancelled_once(exchange_host, movement_id)
    assert w.one(ReturnBooking, id=booked).status == "CANCELLED"


def test_a_departed_movement_is_the_hosts_refusal_kept_and_not_retried(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
) -> None:
    movement_id = sent_then_cancelled(w, booked)
    for status in ("BOOKED", "CONFIRMED", "DEPARTED"):  # the CTM has not read the feed yet
        exchange_host.advance(movement_id, status)
    assert w.relay().failed == 1
    message = the_cancellation(w)
    assert (message.status, message.error_code, message.result) == ("failed", "INVALID_STATE", {"status": "DEPARTED"})
    assert w.relay(now=later(60 * 24)).done + w.relay(now=later(60 * 24)).failed == 0  # never sent again
    assert exchange_host.transitions(movement_id)[-1] == "DEPARTED"
    case_id = w.one(ReturnBooking, id=booked).case_id
    shown = cancellations.cancellations_of_case(w.ctx("movement"), case_id)[booked]
    assert shown.host_status == "DEPARTED"
    assert "return.cancel.failed" in [row["action"] for row in w.audit_rows()]


@pytest.mark.parametrize("in_flight", [False, True], ids=["booked-first", "cancelled-while-booking"])
def test_cancellations_reach_the_host_once_under_dropped_replies(
    w: World,
    exchange_host,
    in_flight: bool,  # noqa: ANN001
) -> None:
    """A cancellation reaches the host once under dropped replies (30% 503, 30% replies lost after
    commit), whether it was asked after the booking went or while the booking was still on its way."""
    case_of = {}
    for person in add_people(exchange_host, CANCELLATIONS):
        case_of[person] = w.open(person)
        w.prepare(case_of[person])
        returns.book_return(w.ctx("movement"), case_of[person], w.booking_form(case_of[person]))
    clock = Clock()
    if not in_flight:
        relay_until_quiet(w, clock)
    for booking in w.all(ReturnBooking):
        cancel(w, booking.id, "SECURITY")
    chaos(exchange_host, seed=11 + in_flight)
    assert relay_until_quiet(w, clock) > 0  # replies were lost: the relay had to ask
    with w.rt.factory() as s:
        states = s.scalars(sa.select(OutboxMessage.status)).all()
        bookings = s.scalars(sa.select(ReturnBooking)).all()
    assert len(states) == 2 * CANCELLATIONS and set(states) == {"done"}  # none failed, dead or lost
    assert len(bookings) == CANCELLATIONS and {b.status for b in bookings} == {"CANCELLED"}
    for person in case_of:
        (movement,) = exchange_host.movements_for(person)
        assert exchange_host.transitions(movement.movement_id).count("CANCELLED") == 1
        assert movement.status == "CANCELLED"


def test_both_hosts_answer_cancel_movement_as_the_contract_says(w: World, booked: int, exchange_host) -> None:  # noqa: ANN001
    w.relay()
    movement_id = w.one(ReturnBooking, id=booked).movement_id
    tha = HostClient(Connection(exchange_host.base_url, *api_credentials("THA")))
    khm = HostClient(Connection(exchange_host.base_url, *api_credentials("KHM")))
    refusals = [
        (lambda: tha.cancel_movement(movement_id, "ELOPED"), "VALIDATION"),  # not one of the contract's reasons
        (lambda: tha.cancel_movement("MOV-0000000", "OTHER"), "NOT_FOUND"),
        (lambda: khm.cancel_movement(movement_id, "OTHER"), "FORBIDDEN_MISSION"),  # another mission's movement
    ]
    for call, code in refusals:
        with pytest.raises(HostFault) as refused:
            call()
        assert (refused.value.code, refused.value.retryable) == (code, False)
    assert exchange_host.transitions(movement_id) == ["REQUESTED"]  # nothing refused changed anything
    assert tha.cancel_movement(movement_id, "OTHER") == "CANCELLED"
    with pytest.raises(HostFault) as refused:
        tha.cancel_movement(movement_id, "OTHER")
    assert refused.value.code == "INVALID_STATE"
    assert exchange_host.transitions(movement_id) == ["REQUESTED", "CANCELLED"]


# -- what may be cancelled, and booking again ----------------------------------------------------


def test_what_cannot_be_cancelled_is_refused_with_the_reason_and_nothing_is_saved(w: World, booked: int) -> None:
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        cancel(w, booked, "ELOPED")
    assert refused.value.errors == {"reason": [NOT_IN_LIST]}  # not one of the contract's reasons
    assert w.snapshot() == before
    with w.rt.factory() as s, s.begin():
        s.get(ReturnBooking, booked).status = "DEPARTED"
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        cancel(w, booked)
    assert refused.value.errors == {"reason": [cancellations.NO_LONGER]}
    assert w.snapshot() == before


def test_a_second_cancellation_while_one_is_on_its_way_is_refused(w: World, booked: int) -> None:
    cancel(w, booked)
    with pytest.raises(Invalid) as refused:
        cancel(w, booked)
    assert refused.value.errors == {"reason": [cancellations.UNDER_WAY]}


def test_another_cases_return_and_a_user_who_may_not_book_get_not_found(w: World, booked: int) -> None:
    other = w.open("BEN-1000002")
    with pytest.raises(NotFound):
        cancellations.cancel_return(w.ctx("movement"), other, booked, {"version": w.version(other), "reason": "OTHER"})
    with pytest.raises(NotFound):
        cancel(w, booked, user="caseworker")
    with pytest.raises(NotFound):  # the return of a THA case, asked for in KHM
        cancellations.cancel_return(w.ctx("movement", "KHM"), other, booked, {"version": 1, "reason": "OTHER"})


def test_a_booking_the_host_never_got_cannot_be_cancelled_and_a_waiting_cancellation_then_fails(
    w: World, booked: int
) -> None:
    cancel(w, booked)
    booking_message = w.one(OutboxMessage, operation="BookMovement")
    outbox.discard(w.ctx("integrator"), booking_message.id)  # pending: the host never had it
    report = w.relay()
    assert report.outcomes[the_cancellation(w).client_reference] == "failed"
    assert the_cancellation(w).error_code == cancellations.NOT_BOOKED
    with pytest.raises(Invalid) as refused:
        cancel(w, booked)
    assert refused.value.errors == {"reason": [cancellations.NEVER_BOOKED]}


def test_a_new_return_may_be_booked_once_one_is_cancelled_or_a_no_show_never_two_live(
    w: World,
    case: int,
    exchange_host,  # noqa: ANN001
) -> None:
    first = returns.book_return(w.ctx("movement"), case, w.booking_form(case))
    w.relay()
    cancel(w, first)
    with pytest.raises(Invalid) as refused:  # the cancellation may still be refused by the host
        returns.book_return(w.ctx("movement"), case, w.booking_form(case))
    assert refused.value.errors == {"earliest_departure": [returns.ALREADY]}
    w.relay()
    second = returns.book_return(w.ctx("movement"), case, w.booking_form(case))
    w.relay()
    movement_id = w.one(ReturnBooking, id=second).movement_id
    for status in ("BOOKED", "CONFIRMED", "NO_SHOW"):
        exchange_host.advance(movement_id, status)
    feed.apply_movement_changes(w.job_ctx())
    assert w.one(ReturnBooking, id=second).status == "NO_SHOW"
    returns.book_return(w.ctx("movement"), case, w.booking_form(case))
    with pytest.raises(Invalid):
        returns.book_return(w.ctx("movement"), case, w.booking_form(case))
    assert [b.status for b in w.all(ReturnBooking, case_id=case)] == ["CANCELLED", "NO_SHOW", None]


def test_a_cancellation_is_audited_with_who_asked(w: World, booked: int) -> None:
    cancel(w, booked)
    (event,) = [e for e in w.all(AuditEvent) if e.action == "return.cancel"]
    assert (event.username, event.field_groups) == ("movement", ["return"])
