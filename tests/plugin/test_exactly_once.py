"""Exactly once when the outcome is in doubt: 200 returns for 200 people, booked through a host
that turns 30% of its requests away (503) and loses 30% of its replies after committing
(seeded), with the relay run round after round on its own clock until nothing is left to send.

Every booking ends with exactly one movement in the host, none failed, none lost; the same when
the host's answers to ``FindMovementByReference`` cannot be read for a while. What is checked on
the host's side goes through :func:`movements_per_person` and :func:`add_people`, so that another
host can take the reference host's place.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OUTBOX_OPEN, OutboxMessage
from ctm_plugin.services import outbox, returns

PEOPLE = 200
PEOPLE_IDS = [f"BEN-19{n:05d}" for n in range(1, PEOPLE + 1)]
ROUNDS = 80
"""Far more relay rounds than 200 messages need at these rates; reaching it means one never settles."""


# -- the host's side (either host, through tests/plugin/exchange_hosts.py) ------------------------


def add_people(host, count: int) -> list[str]:  # noqa: ANN001 - an exchange host
    """``count`` new THA beneficiaries in the host's records."""
    from contract_host.store import Beneficiary

    people = PEOPLE_IDS[:count]
    host.add_people(
        [
            Beneficiary(
                beneficiary_id=person,
                mission_code="THA",
                family_name="Synthetic",
                given_name=f"Person {n}",
                sex="F",
                birth_date=date(1990, 1, 1) + timedelta(days=n),
                nationality="KHM",
                languages=["khm"],
                project_code="THA-CT-01",
            )
            for n, person in enumerate(people)
        ]
    )
    return people


def movements_per_person(host, people: list[str]) -> dict[str, list[str]]:  # noqa: ANN001 - an exchange host
    """The movement ids the host holds for each of ``people`` (only those with at least one)."""
    return {person: ids for person in people if (ids := [m.movement_id for m in host.movements_for(person)])}


# -- the CTM's side -------------------------------------------------------------------------------


class Clock:
    """The relay's clock: moved on by the test, never slept through."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def book_200(rt) -> None:  # noqa: ANN001 - a Runtime
    """A case, the consent to return and a booked return for each of the 200 people :func:`add_people` adds
    to a host: the CTM's side alone (the host is not asked), built once per run and backend (the
    ``database`` marker) instead of through the services in every test."""
    w = World(rt)
    for person in PEOPLE_IDS:
        case_id = w.open(person)
        w.prepare(case_id)
        returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))


pytestmark = pytest.mark.database.with_args(book_200)  # with_args: a lone function would be marked itself


@pytest.fixture
def booked(w: World, exchange_host) -> dict[str, int]:  # noqa: ANN001
    """person → case: the 200 new people in the host's records, each with the case :func:`book_200` made."""
    people = add_people(exchange_host, PEOPLE)
    with w.rt.factory() as s:
        case_of = dict(s.execute(sa.select(Case.beneficiary_id, Case.id).where(Case.beneficiary_id.in_(people))).all())
    assert sorted(case_of) == sorted(people)
    return {person: case_of[person] for person in people}


def open_messages(w: World) -> int:
    with w.rt.factory() as s:
        return s.scalar(sa.select(sa.func.count()).where(OutboxMessage.status.in_(OUTBOX_OPEN)))


def relay_until_quiet(w: World, clock: Clock, every_round: Callable[[], None] = lambda: None) -> int:
    """Relay rounds, the clock moved past the longest backoff each time, until nothing is open;
    returns how many messages were left in doubt along the way."""
    in_doubt = 0
    for _ in range(ROUNDS):
        every_round()
        clock.now += outbox.MAX_DELAY + timedelta(minutes=1)
        while True:  # a run takes at most a batch: run again until nothing due is left this round
            report = w.relay(now=clock)
            in_doubt += report.in_doubt
            if report.done + report.retrying + report.failed + report.dead == 0:
                break
        if open_messages(w) == 0:
            return in_doubt
    pytest.fail(f"{open_messages(w)} message(s) still open after {ROUNDS} relay rounds")


def assert_exactly_once(w: World, host, case_of: dict[str, int]) -> None:  # noqa: ANN001
    with w.rt.factory() as s:
        statuses = s.scalars(sa.select(OutboxMessage.status).where(OutboxMessage.operation == "BookMovement")).all()
        booked = dict(s.execute(sa.select(ReturnBooking.case_id, ReturnBooking.movement_id)).all())
    assert len(statuses) == PEOPLE and set(statuses) == {"done"}  # none failed, dead or lost
    held = movements_per_person(host, list(case_of))
    assert {person: len(ids) for person, ids in held.items()} == dict.fromkeys(case_of, 1)
    assert {person: booked[case_id] for person, case_id in case_of.items()} == {
        person: ids[0] for person, ids in held.items()
    }


def chaos(host, seed: int) -> None:  # noqa: ANN001
    host.faults.rng = random.Random(seed)
    host.faults.unavailable_rate = host.faults.drop_reply_rate = 0.3


def test_200_bookings_under_503s_and_lost_replies_end_exactly_once(w: World, exchange_host, booked) -> None:  # noqa: ANN001
    chaos(exchange_host, seed=8)
    in_doubt = relay_until_quiet(w, Clock())
    assert in_doubt > 0  # replies were lost: the relay had to reconcile
    assert_exactly_once(w, exchange_host, booked)


def test_the_same_while_the_hosts_lookups_cannot_be_read_for_a_while(w: World, exchange_host, booked) -> None:  # noqa: ANN001
    chaos(exchange_host, seed=9)
    exchange_host.faults.unreadable_lookups = 120
    lookups_unreadable = []
    relay_until_quiet(w, Clock(), lambda: lookups_unreadable.append(exchange_host.faults.unreadable_lookups > 0))
    assert exchange_host.faults.unreadable_lookups == 0 and lookups_unreadable.count(True) > 1  # it lasted rounds
    assert_exactly_once(w, exchange_host, booked)
