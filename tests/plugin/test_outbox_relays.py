"""Two relays on one queue, the host faulty (replies dropped after it booked, 503s): no booking is sent
while the other relay is sending it, none is lost, and the host books each exactly once.

Each relay runs in its own thread with its own sessions (its own database connections) and its own client,
sending its batches on its own workers, as two relay processes would; both run at once, round after round,
and the clock moves on between rounds so that every backoff runs out. The sends are watched where they
leave for the host: the host's idempotency by ``ClientReference`` would hide a second booking request.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from exchange_hosts import ReferenceHost
from world import OPENED, World

from ctm_plugin.adapters.mimosa.client import BookedMovement, Connection, HostClient
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.services import feed, outbox, people, returns
from ctm_plugin.services.base import Invalid
from mimosa_host.demo import api_credentials

PEOPLE = [f"BEN-1{n:06d}" for n in range(6, 18)]  # THA demo beneficiaries with no seeded movement
ROUNDS = 40


class Watch:
    """Every BookMovement request as it leaves for the host: how many of one reference are under way at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.under_way: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.answered: set[str] = set()
        self.sent_after_answer: list[str] = []

    def client(self, base_url: str) -> HostClient:
        watch = self

        class Watched(HostClient):
            def book_movement(self, request_element, client_reference: str) -> BookedMovement:  # noqa: ANN001
                with watch.lock:
                    if client_reference in watch.answered:
                        watch.sent_after_answer.append(client_reference)
                    watch.sent[client_reference] += 1
                    watch.under_way[client_reference] += 1
                    watch.most_at_once[client_reference] = max(
                        watch.most_at_once[client_reference], watch.under_way[client_reference]
                    )
                try:
                    booked = super().book_movement(request_element, client_reference)
                    with watch.lock:
                        watch.answered.add(client_reference)
                    return booked
                finally:
                    with watch.lock:
                        watch.under_way[client_reference] -= 1

        return Watched(Connection(base_url, *api_credentials("THA"), operation_timeout=30.0))


def test_two_relays_on_one_queue_never_send_a_booking_twice_at_once_and_lose_none(
    w: World,
    exchange_host,  # noqa: ANN001
) -> None:
    cases = {}
    for person in PEOPLE:
        cases[person] = people.open_from_host(w.ctx("caseworker"), person, {"opened_on": OPENED})
        w.prepare(cases[person])
        returns.book_return(w.ctx("movement"), cases[person], w.booking_form(cases[person]))
    watch = Watch()
    relays = [(w.job_ctx(), watch.client(exchange_host.base_url), random.Random(n)) for n in range(2)]  # noqa: S311
    clock = [datetime.now(UTC)]
    faults = exchange_host.faults
    faults.unavailable, faults.drop_reply = 2, 2  # the first bookings sent surely meet each fault
    faults.drop_reply_rate, faults.unavailable_rate = 0.3, 0.3
    errors: list[BaseException] = []

    def run(ctx, client, rng) -> None:  # noqa: ANN001
        try:
            outbox.relay(ctx, client=client, now=lambda: clock[0], rng=rng, limit=4, workers=3)
        except BaseException as error:  # noqa: BLE001 - the test's thread: reported below
            errors.append(error)

    def open_messages() -> int:
        with w.rt.factory() as s:
            return s.scalar(sa.select(sa.func.count()).where(OutboxMessage.status != "done"))

    try:
        for _round in range(ROUNDS):
            threads = [threading.Thread(target=run, args=relay) for relay in relays]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors, errors
            if not open_messages():
                break
            clock[0] += outbox.MAX_DELAY  # every backoff over: each round finds every open message due
    finally:
        faults.drop_reply_rate = faults.unavailable_rate = 0.0
        faults.unavailable = faults.drop_reply = 0
    for _ in range(3):  # the host healthy again: whatever is left arrives
        outbox.relay(w.job_ctx(), client=relays[0][1], now=lambda: clock[0])
        clock[0] += outbox.MAX_DELAY

    assert open_messages() == 0  # none lost, none given up
    assert set(watch.most_at_once.values()) == {1}  # never two requests of one booking under way at once
    assert watch.sent_after_answer == []  # never sent again once the host's answer was read
    assert any(count > 1 for count in watch.sent.values())  # the 503s struck: those were sent again
    assert {person: len(exchange_host.movements_for(person)) for person in PEOPLE} == dict.fromkeys(PEOPLE, 1)
    with w.rt.factory() as s:
        booked = set(s.scalars(sa.select(ReturnBooking.movement_id).where(ReturnBooking.case_id.in_(cases.values()))))
    assert booked == {m.movement_id for person in PEOPLE for m in exchange_host.movements_for(person)}


def test_a_booking_rings_the_relay_when_it_commits_and_a_refused_one_does_not(w: World, connected) -> None:  # noqa: ANN001
    from mimosa_host.plugin_api import wake_listeners

    rung: list[tuple[str, str | None]] = []
    wake_listeners.append(lambda channel, mission: rung.append((channel, mission)))
    listener = None
    if w.rt.engine.dialect.name == "postgresql":  # another process's relay, listening on its own connection
        import psycopg

        listener = psycopg.connect(w.rt.engine.url.render_as_string(hide_password=False).replace("+psycopg", ""))
        listener.autocommit = True
        listener.execute("LISTEN ctm_outbox")
    try:
        case_id = people.open_from_host(w.ctx("caseworker"), PEOPLE[0], {"opened_on": OPENED})
        w.prepare(case_id)
        assert rung == []
        form = w.booking_form(case_id)
        returns.book_return(w.ctx("movement"), case_id, form)
        assert rung == [(outbox.CHANNEL, "THA")]
        with pytest.raises(Invalid):  # a second return refused: nothing queued, nothing rung
            returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
        assert rung == [(outbox.CHANNEL, "THA")]
        if listener is not None:
            heard = [(n.channel, n.payload) for n in listener.notifies(timeout=10, stop_after=1)]
            assert heard == [(outbox.CHANNEL, "THA")]
    finally:
        wake_listeners.pop()
        if listener is not None:
            listener.close()


def test_a_return_is_in_flight_for_the_feed_from_its_booking_until_booked(w: World, connected) -> None:  # noqa: ANN001
    job = w.job_ctx()
    assert not feed.in_flight(job)
    case_id = people.open_from_host(w.ctx("caseworker"), PEOPLE[0], {"opened_on": OPENED})
    w.prepare(case_id)
    returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    assert feed.in_flight(job)  # queued
    assert w.relay().done == 1
    assert feed.in_flight(job)  # REQUESTED at the host
    ReferenceHost(connected).book_requested()  # the travel desk books it
    feed.apply_movement_changes(job)
    assert w.one(ReturnBooking, case_id=case_id).status == "BOOKED"
    assert not feed.in_flight(job)
