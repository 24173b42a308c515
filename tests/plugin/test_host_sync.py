"""The CTM and a host over real HTTP on loopback: import, refresh, pull, register, return booking
through the outbox, and the status feed, with the host's faults switched on. Every test runs
against the reference host and the contract host (``exchange_host``), reading host records
through the same small interface (``exchange_hosts``).

The invariant under every fault: no booking lost, none doubled.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree
from world import OPENED, THA_OTHER_PERSON, World, set_ctm_settings

from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostUnavailable
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.due import ScreeningCandidate
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import BENEFICIARY_FEED, FeedPosition, HostLink, OutboxMessage
from ctm_plugin.services import feed, outbox, people, returns
from ctm_plugin.services.base import Invalid
from mimosa_host.demo import api_credentials

THA_PERSON = "BEN-1000001"
TODAY = date.today()


@pytest.fixture
def imported(w: World, exchange_host) -> int:  # noqa: ANN001
    """A THA case opened from the host's record of BEN-1000001."""
    return people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})


@pytest.fixture
def booked(w: World, imported: int) -> int:
    w.prepare(imported)
    return returns.book_return(w.ctx("movement"), imported, w.booking_form(imported))


def later(minutes: int = 30):  # noqa: ANN201
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


# -- import, refresh, pull ---------------------------------------------------------------------


def test_search_finds_the_host_record_and_opening_it_fills_the_person_profile(w: World, exchange_host):  # noqa: ANN001
    host = exchange_host.beneficiary(THA_PERSON)
    hits = people.search(
        w.ctx("caseworker"), {"family_name": host.family_name, "birth_date": host.birth_date.isoformat()}
    )
    assert THA_PERSON in [hit.beneficiary_id for hit in hits]
    case_id = people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})
    person = w.one(PersonProfile, case_id=case_id)
    assert person.birth_date == host.birth_date
    assert person.birth_date_precision == ("Year" if host.birth_date_estimated else "Day")
    assert person.citizenships == [host.nationality]
    assert person.languages == host.languages
    link = w.one(HostLink, case_id=case_id)
    assert (link.beneficiary_id, link.host_version, link.sync_status) == (THA_PERSON, host.record_version, "synced")
    assert (link.mapping_id, link.mapping_version) == ("beneficiary", "1")
    again = people.search(w.ctx("caseworker"), {"family_name": host.family_name})
    assert [hit.case_id for hit in again if hit.beneficiary_id == THA_PERSON] == [case_id]


def test_a_refresh_brings_the_hosts_changes_and_says_what_changed(w: World, imported: int, exchange_host):  # noqa: ANN001
    old = exchange_host.beneficiary(THA_PERSON).nationality
    new = "LAO" if old != "LAO" else "MMR"
    exchange_host.edit_beneficiary(THA_PERSON, nationality=new)
    changes = people.refresh(w.ctx("caseworker"), imported)
    assert {"field": "citizenships", "before": [old], "after": [new]} in changes
    assert w.one(PersonProfile, case_id=imported).citizenships == [new]
    assert w.one(HostLink, case_id=imported).changes == changes


def test_the_pull_job_refreshes_only_what_changed_since_the_last_pull(w: World, imported: int, exchange_host):  # noqa: ANN001
    assert people.pull(w.job_ctx()) == 1  # the first pull reads everything once
    assert people.pull(w.job_ctx()) == 0
    exchange_host.edit_beneficiary(THA_PERSON, languages=["eng"])  # as the host's own pages make one
    seen = []
    assert people.pull(w.job_ctx(), lambda done, total: seen.append((done, total))) == 1
    assert w.one(PersonProfile, case_id=imported).languages == ["eng"]
    assert seen and seen[-1][0] == seen[-1][1]


class Paged:
    """The host (``exchange_host``) read in pages of 3 (the demo's THA people make many): the client's
    ``find_beneficiaries`` notes each page asked for, and fails on ``fail_on``."""

    def __init__(self, host: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.host = host
        self.pages: list[int] = []
        self.fail_on: int | None = None
        real = HostClient.find_beneficiaries

        def find(client: HostClient, **criteria: Any) -> Any:
            self.pages.append(criteria["page"])
            if criteria["page"] == self.fail_on:
                raise HostUnavailable("CONNECTION_REFUSED", ambiguous=False)
            return real(client, **criteria)

        monkeypatch.setattr(HostClient, "find_beneficiaries", find)
        monkeypatch.setattr(people, "PAGE_SIZE", 3)


@pytest.fixture
def paged(imported: int, exchange_host, monkeypatch: pytest.MonkeyPatch) -> Paged:  # noqa: ANN001
    return Paged(exchange_host, monkeypatch)


def flagged(w: World) -> list[str]:
    return sorted(c.beneficiary_id for c in w.all(ScreeningCandidate))


def test_a_pull_page_by_page_refreshes_each_linked_case_once_and_flags_the_others(
    w: World, imported: int, paged: Paged
):
    paged.host.edit_beneficiary(THA_PERSON, vulnerabilities=["VOT"], languages=["eng"])
    paged.host.edit_beneficiary(THA_OTHER_PERSON, vulnerabilities=["VOT"])
    seen = []
    assert people.pull(w.job_ctx(), lambda done, total: seen.append((done, total))) == 1
    total = seen[-1][1]
    assert len(seen) > 2 and [done for done, _ in seen] == [min(3 * n, total) for n in range(1, len(seen) + 1)]
    assert sorted(paged.pages) == list(range(1, len(seen) + 1))  # each page once, none past the last
    assert w.one(PersonProfile, case_id=imported).languages == ["eng"]
    assert THA_OTHER_PERSON in flagged(w) and THA_PERSON not in flagged(w)  # the linked one has a case already


def test_a_pull_the_host_fails_midway_keeps_what_it_wrote_and_is_read_again_whole_next_time(w: World, paged: Paged):
    paged.host.edit_beneficiary(THA_OTHER_PERSON, vulnerabilities=["VOT"])
    paged.fail_on, seen = 3, []
    with pytest.raises(HostUnavailable):
        people.pull(w.job_ctx(), lambda done, total: seen.append((done, total)))
    assert [done for done, _ in seen] == [3, 6]  # the pages before the failure are written...
    written = flagged(w)
    assert sorted(paged.pages) == [1, 2, 3]
    assert w.one(FeedPosition, feed=BENEFICIARY_FEED).position is None  # ...and the position has not moved
    paged.fail_on = None
    assert people.pull(w.job_ctx()) == 1  # from the same position: everything again, each flag once
    assert set(written) <= set(flagged(w)) and THA_OTHER_PERSON in flagged(w)
    assert len(flagged(w)) == len(set(flagged(w)))


def test_a_pull_stopped_while_writing_a_page_asks_for_no_page_after_the_one_in_flight(w: World, paged: Paged):
    class Stopped(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        people.pull(w.job_ctx(), stop)
    assert sorted(paged.pages) == [1, 2]  # page 2 was asked for while page 1 was written, then dropped
    assert not [t for t in threading.enumerate() if t.name.startswith("ctm-pull") and t.is_alive()]
    assert w.one(FeedPosition, feed=BENEFICIARY_FEED).position is None


# -- a person registered in the CTM first ------------------------------------------------------


def register_form() -> dict[str, str]:
    return {
        "family_name": "Synthetic",
        "given_name": "Person",
        "gender": "Feminine",
        "birth_date": "1999-05-01",
        "birth_date_precision": "Day",
        "nationality": "KHM",
        "languages": ["khm"],
        "opened_on": OPENED,
        "consent_given_on": OPENED,
        "consent_method": "Written",
    }


def test_a_person_registered_first_is_created_once_in_the_host_and_the_ctm_keeps_no_names(w: World, exchange_host):  # noqa: ANN001
    case_id = people.register(w.ctx("caseworker"), register_form())
    assert w.one(HostLink, case_id=case_id).sync_status == "pending"
    assert w.relay().done == 1
    case = w.one(Case, id=case_id)
    created = exchange_host.beneficiary(case.beneficiary_id)
    assert created.family_name == "Synthetic" and created.sex == "F"
    assert w.one(HostLink, case_id=case_id).sync_status == "synced"
    message = w.one(OutboxMessage, case_id=case_id)
    assert message.status == "done" and "Synthetic" not in message.payload
    assert w.relay().done == 0  # nothing left to send


# -- booking a return --------------------------------------------------------------------------


def test_a_return_needs_the_persons_consent_and_nothing_is_saved_without_it(w: World, imported: int):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        returns.book_return(w.ctx("movement"), imported, w.booking_form(imported))
    assert refused.value.errors["consent"] == ["The person's consent to a voluntary return is not in force."]
    assert w.snapshot() == before


def test_a_booking_reaches_booked_through_the_relay_and_the_feed(w: World, booked: int, exchange_host):  # noqa: ANN001
    assert w.relay().done == 1
    booking = w.one(ReturnBooking, id=booked)
    assert booking.status == "REQUESTED" and booking.movement_id
    movement = exchange_host.movement(booking.movement_id)
    assert movement.beneficiary_ids == [THA_PERSON]
    assert movement.remarks is None
    exchange_host.advance(booking.movement_id, "BOOKED")
    assert feed.apply_movement_changes(w.job_ctx()) >= 1
    assert w.one(ReturnBooking, id=booked).status == "BOOKED"
    assert feed.apply_movement_changes(w.job_ctx()) == 0


def test_the_booking_request_carries_only_travel_facts(w: World, booked: int):
    payload = etree.fromstring(w.one(OutboxMessage, operation="BookMovement").payload.encode())  # noqa: S320 - our own
    names = {etree.QName(e).localname for e in payload.iter()}
    assert names <= {
        "MovementRequest", "MissionCode", "ProjectCode", "MovementType", "Beneficiaries", "BeneficiaryId",
        "Origin", "Destination", "EarliestDeparture", "Escort", "FitToTravel",
    }  # fmt: skip


def test_host_down_loses_nothing_and_the_message_waits_for_its_backoff(w: World, booked: int, exchange_host):  # noqa: ANN001
    down = HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x"))
    before = len(exchange_host.movements_for(THA_PERSON))
    at = datetime.now(UTC)  # the relay's clock stands still: a busy machine does not make the backoff run out
    report = w.relay(client=down, now=lambda: at)
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (report.retrying, message.status, message.attempts) == (1, "pending", 1)
    assert w.relay(now=lambda: at).done == 0  # not due yet
    assert w.relay(now=later()).done == 1
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1


def test_a_reply_lost_after_the_host_committed_is_asked_about_not_sent_again(w: World, booked: int, exchange_host):  # noqa: ANN001
    before = len(exchange_host.movements_for(THA_PERSON))
    exchange_host.faults.drop_reply = 1
    assert w.relay().retrying == 1
    assert w.one(OutboxMessage, operation="BookMovement").status == "unknown"
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1  # the host booked it before the reply was lost
    assert w.relay(now=later()).done == 1
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1  # asked about, not booked again
    booking = w.one(ReturnBooking, id=booked)
    assert exchange_host.movement(booking.movement_id)


def test_503_is_retried_and_a_business_fault_fails_with_the_hosts_message(w: World, booked: int, exchange_host):  # noqa: ANN001
    exchange_host.faults.unavailable = 1
    assert w.relay().retrying == 1
    with w.rt.factory() as s, s.begin():  # the host no longer knows the person: a business fault
        message = s.scalars(sa.select(OutboxMessage)).one()
        message.payload = message.payload.replace(THA_PERSON, "BEN-9999999")
    report = w.relay(now=later())
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (report.failed, message.status, message.attempts) == (1, "failed", 2)
    assert message.error_code in ("NOT_FOUND", "VALIDATION") and message.error


def test_exhausted_retries_go_dead_and_an_integrator_retry_sends_it_once(w: World, booked: int):
    down = HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x"))
    for minutes in range(0, outbox.MAX_ATTEMPTS * 20, 20):
        w.relay(client=down, now=later(minutes))
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (message.status, message.attempts) == ("dead", outbox.MAX_ATTEMPTS)
    outbox.retry(w.ctx("integrator"), message.id)
    assert w.relay().done == 1
    assert w.one(OutboxMessage, operation="BookMovement").status == "done"


def test_a_change_delivered_twice_is_applied_once(w: World, booked: int, exchange_host):  # noqa: ANN001
    w.relay()
    booking = w.one(ReturnBooking, id=booked)
    exchange_host.advance(booking.movement_id, "BOOKED")
    exchange_host.faults.duplicate_changes = 1
    feed.apply_movement_changes(w.job_ctx())
    events = [e for e in w.audit_rows() if e["action"] == "return.status"]
    assert w.one(ReturnBooking, id=booked).status == "BOOKED"
    assert len(events) == 2  # REQUESTED, BOOKED: each once


def test_no_name_or_credential_reaches_the_log(w: World, booked: int, caplog, exchange_host):  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    w.relay()
    host = exchange_host.beneficiary(THA_PERSON)
    secrets = (host.family_name, host.given_name, "demo-soap-tha-2026", host.documents[0].number)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in text


# -- sending the CTM's fields to the host ---------------------------------------------------------


def push(w: World, case_id: int, **extra: str) -> None:
    people.push(w.ctx("caseworker"), case_id, {"version": w.version(case_id), **extra})


def test_an_update_needs_consent_and_then_reaches_the_host(w: World, imported: int, exchange_host):  # noqa: ANN001
    with pytest.raises(Invalid):
        push(w, imported)
    w.consent(imported, "HostSharing")
    with w.rt.factory() as s, s.begin():
        s.scalars(sa.select(PersonProfile).where(PersonProfile.case_id == imported)).one().languages = ["khm", "tha"]
    push(w, imported)
    assert w.relay().done == 1
    assert exchange_host.beneficiary(THA_PERSON).languages == ["khm", "tha"]
    assert w.one(HostLink, case_id=imported).sync_status == "synced"


def test_a_stale_record_version_is_a_conflict_showing_both_versions_and_nothing_is_overwritten(
    w: World,
    imported: int,
    exchange_host,  # noqa: ANN001
):
    w.consent(imported, "HostSharing")
    exchange_host.edit_beneficiary(THA_PERSON, languages=["eng"])  # someone edits the host record meanwhile
    with w.rt.factory() as s, s.begin():
        s.scalars(sa.select(PersonProfile).where(PersonProfile.case_id == imported)).one().languages = ["khm"]
    push(w, imported)
    assert w.relay().failed == 1
    link = w.one(HostLink, case_id=imported)
    assert link.sync_status == "conflict"
    assert link.conflict["ours"]["languages"] == ["khm"] and link.conflict["host"]["languages"] == ["eng"]
    assert exchange_host.beneficiary(THA_PERSON).languages == ["eng"]  # nothing overwritten
    push(w, imported, keep="ours")  # the user saw both and keeps the case's
    assert w.relay().done == 1
    assert exchange_host.beneficiary(THA_PERSON).languages == ["khm"]


def test_bad_credentials_fail_the_booking_with_the_hosts_word_and_a_retry_after_the_fix_sends_it_once(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
):
    set_ctm_settings(w.rt, soap_password="not-the-password")
    before = len(exchange_host.movements_for(THA_PERSON))
    assert w.relay().failed == 1
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (message.status, message.error_code) == ("failed", "UNAUTHORIZED")
    set_ctm_settings(w.rt, soap_password=api_credentials("THA")[1])  # the mission's settings corrected
    outbox.retry(w.ctx("integrator"), message.id)
    assert w.relay().done == 1
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1


def test_a_mission_whose_ctm_is_disabled_keeps_its_queue_paused_until_it_is_enabled_again(w: World, booked: int):
    from mimosa_host import enablement
    from mimosa_host.context import system_context
    from mimosa_host.jobs import JobRunner
    from mimosa_host.models import Mission

    with w.rt.factory() as s, s.begin():
        enablement.disable(
            s, w.rt.host, "THA", "ctm", system_context(s, w.rt.host, w.rt.factory, s.get(Mission, "THA"))
        )
    JobRunner(w.rt).run_due(force=True)
    assert w.one(OutboxMessage, operation="BookMovement").status == "pending"
    with w.rt.factory() as s, s.begin():
        settings = enablement.plugin_settings(s, "THA", "ctm")
        ctx = system_context(s, w.rt.host, w.rt.factory, s.get(Mission, "THA"))
        enablement.enable(s, w.rt.host, "THA", "ctm", settings, ctx)
    JobRunner(w.rt).run_due(force=True)
    assert w.one(OutboxMessage, operation="BookMovement").status == "done"
    assert w.one(ReturnBooking, id=booked).status == "REQUESTED"


def test_a_bad_mapping_override_is_refused_naming_where_and_the_mapping_in_force_stays(w: World, exchange_host):  # noqa: ANN001
    from ctm_plugin.services import host

    good = (
        "[beneficiary]\nversion = 2\n\n[beneficiary.fields.citizenships]\n"
        'xpath = ["m:Nationality"]\ncardinality = "many"\nconverter = "country_alpha3"\n'
    )
    bad = good.replace("country_alpha3", "country_alpha9")
    host.save_overrides(w.ctx("integrator"), good)
    with pytest.raises(Invalid) as refused:
        host.save_overrides(w.ctx("integrator"), bad)
    assert "mapping_overrides:7: beneficiary.fields.citizenships.converter" in str(refused.value.errors["document"])
    case_id = people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})
    assert w.one(HostLink, case_id=case_id).mapping_version == "1+m2"  # the good override, still in force


# -- in doubt: the host may hold the booking -------------------------------------------------------


def test_an_answer_that_cannot_be_read_leaves_the_booking_in_doubt_and_the_host_is_asked(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
):
    from ctm_plugin.adapters.mimosa.testing import answer, envelope, loopback

    before = len(exchange_host.movements_for(THA_PERSON))
    garbled = envelope("<h:BookMovementResponse><h:Status>REQUESTED</h:Status></h:BookMovementResponse>")
    with loopback(answer(200, garbled)) as server:  # no MovementId: nothing the relay can use
        report = w.relay(client=HostClient(Connection(server.base_url, "ctm-tha", "x")))
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (report.in_doubt, message.status, message.error_code) == (1, "unknown", "PROTOCOL")
    assert w.relay(now=later()).done == 1  # asked: the host had none, so it was sent
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1


def test_a_booking_in_doubt_is_never_given_up_by_the_relay_and_blocks_another_booking(
    w: World,
    booked: int,
    exchange_host,  # noqa: ANN001
):
    before = len(exchange_host.movements_for(THA_PERSON))
    exchange_host.faults.drop_reply = 1
    w.relay()
    exchange_host.faults.unreadable_lookups = outbox.MAX_ATTEMPTS * 2
    for round_ in range(1, outbox.MAX_ATTEMPTS * 2 + 1):  # longer than any retry budget
        assert w.relay(now=later(30 * round_)).in_doubt == 1
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (message.status, message.attempts) == ("unknown", outbox.MAX_ATTEMPTS * 2 + 1)
    with pytest.raises(Invalid) as refused:
        returns.book_return(w.ctx("movement"), booked_case(w, booked), w.booking_form(booked_case(w, booked)))
    assert refused.value.errors == {"earliest_departure": [returns.ALREADY_IN_DOUBT]}
    assert w.relay(now=later(60 * 24)).done == 1  # the host answers readably again
    assert len(exchange_host.movements_for(THA_PERSON)) == before + 1
    assert w.one(ReturnBooking, id=booked).movement_id


def booked_case(w: World, booking_id: int) -> int:
    return w.one(ReturnBooking, id=booking_id).case_id


def test_a_lookup_the_host_refuses_leaves_the_booking_in_doubt(w: World, booked: int, exchange_host):  # noqa: ANN001
    before = len(exchange_host.movements_for(THA_PERSON))
    exchange_host.faults.drop_reply = 1
    w.relay()
    set_ctm_settings(w.rt, soap_password="not-the-password")
    w.relay(now=later())
    message = w.one(OutboxMessage, operation="BookMovement")
    assert (message.status, message.error_code) == ("unknown", "UNAUTHORIZED")  # a refused lookup is no refusal
    set_ctm_settings(w.rt, soap_password=api_credentials("THA")[1])
    assert w.relay(now=later(60)).done == 1 and len(exchange_host.movements_for(THA_PERSON)) == before + 1


def test_discarding_a_booking_in_doubt_the_host_holds_adopts_it(w: World, booked: int, exchange_host):  # noqa: ANN001
    exchange_host.faults.drop_reply = 1
    w.relay()
    message = w.one(OutboxMessage, operation="BookMovement")
    down = HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x"))
    with pytest.raises(HostUnavailable):  # the host cannot be asked: nothing is discarded
        outbox.discard(w.ctx("integrator"), message.id, client=down)
    assert w.one(OutboxMessage, id=message.id).status == "unknown"
    assert outbox.discard(w.ctx("integrator"), message.id) == "done"
    booking = w.one(ReturnBooking, id=booked)
    assert w.one(OutboxMessage, id=message.id).status == "done" and booking.movement_id
    assert exchange_host.movement(booking.movement_id) is not None
    assert "outbox.adopt" in [e["action"] for e in w.audit_rows()]


def test_discarding_a_booking_in_doubt_the_host_does_not_hold_frees_the_case(w: World, booked: int, exchange_host):  # noqa: ANN001
    down, before = (
        HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x")),
        len(exchange_host.movements_for(THA_PERSON)),
    )
    with w.rt.factory() as s, s.begin():  # a relay that died mid-send, long ago
        s.scalars(sa.select(OutboxMessage)).one().status = "unknown"
    message = w.one(OutboxMessage, operation="BookMovement")
    assert outbox.discard(w.ctx("integrator"), message.id) == "discarded"
    assert len(exchange_host.movements_for(THA_PERSON)) == before
    case_id = booked_case(w, booked)
    returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))  # accepted now
    assert w.relay(client=down).retrying == 1


def test_bulk_retry_and_discard_take_what_the_filters_select(w: World, exchange_host):  # noqa: ANN001
    cases = {}
    for person in ("BEN-1000006", "BEN-1000007", "BEN-1000008"):
        cases[person] = people.open_from_host(w.ctx("caseworker"), person, {"opened_on": OPENED})
        w.prepare(cases[person])
        returns.book_return(w.ctx("movement"), cases[person], w.booking_form(cases[person]))
    down = HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x"))
    w.relay(client=down)
    integrator = w.ctx("integrator")
    assert outbox.select(integrator, "retry", outbox.Selection(statuses=("failed",))) == []
    assert len(outbox.select(integrator, "retry", outbox.Selection(operations=("BookMovement",)))) == 3
    assert outbox.select(integrator, "retry", outbox.Selection(older_than=timedelta(hours=1))) == []
    with w.rt.factory() as s:
        number = s.get(Case, cases["BEN-1000007"]).case_number
    one = outbox.select(integrator, "discard", outbox.Selection(case_number=number))
    assert outbox.apply_to(integrator, "discard", one) == {"discarded": 1}
    rest = outbox.select(integrator, "retry", outbox.Selection(statuses=("pending",)))
    assert len(rest) == 2
    assert outbox.apply_to(integrator, "retry", [*rest, *one]) == {"retried": 2, "skipped": 1}
    assert w.relay().done == 2  # retried: due at once, not after their backoff


def test_a_movement_change_naming_one_booking_by_id_and_another_by_reference_is_refused(w: World, booked: int):
    from ctm_plugin.adapters.mimosa.testing import answer, envelope, loopback

    other_case = people.open_from_host(w.ctx("caseworker"), "BEN-1000006", {"opened_on": OPENED})
    w.prepare(other_case)
    other = returns.book_return(w.ctx("movement"), other_case, w.booking_form(other_case))
    assert w.relay().done == 2
    mine, theirs = w.one(ReturnBooking, id=booked), w.one(ReturnBooking, id=other)
    reference = w.one(OutboxMessage, id=theirs.outbox_id).client_reference
    mixed = envelope(
        "<h:GetMovementChangesResponse><h:NextToken>c999</h:NextToken><h:MovementChange>"
        f"<h:MovementId>{mine.movement_id}</h:MovementId><h:ClientReference>{reference}</h:ClientReference>"
        "<h:Status>CANCELLED</h:Status><h:ChangedAt>2026-11-28T09:30:00Z</h:ChangedAt>"
        "</h:MovementChange></h:GetMovementChangesResponse>"
    )
    with loopback(answer(200, mixed)) as server:
        assert feed.apply_movement_changes(w.job_ctx(), HostClient(Connection(server.base_url, "x", "x"))) == 0
    assert (w.one(ReturnBooking, id=booked).status, w.one(ReturnBooking, id=other).status) == ("REQUESTED", "REQUESTED")


def test_an_update_is_stamped_with_the_mapping_that_mapped_it_when_it_was_sent(w: World, imported: int):
    from ctm_plugin.services import host

    w.consent(imported, "HostSharing")
    push(w, imported)
    message = w.one(OutboxMessage, case_id=imported)
    assert (message.payload_kind, message.mapping_version) == ("json", "1")
    override = (
        "[beneficiary]\nversion = 2\n\n[beneficiary.fields.citizenships]\n"
        'xpath = ["m:Nationality"]\ncardinality = "many"\nconverter = "country_alpha3"\n'
    )
    host.save_overrides(w.ctx("integrator"), override)  # the mapping changes while the update waits in the outbox
    assert w.relay().done == 1
    assert w.one(OutboxMessage, case_id=imported).mapping_version == "1+m2"
    assert w.one(HostLink, case_id=imported).mapping_version == "1+m2"


def test_every_operation_is_known_to_the_relay_whatever_was_imported() -> None:
    import subprocess
    import sys

    code = "from ctm_plugin.services import outbox; print(sorted(outbox.OPERATIONS))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert shown.strip() == "['BookMovement', 'CancelMovement', 'SaveBeneficiary']"
