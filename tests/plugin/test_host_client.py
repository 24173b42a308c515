"""The plugin's SOAP client against the reference host, over real HTTP on loopback.

Every test runs on SQLite and on PostgreSQL (through ``live_host`` → ``demo``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree
from lxml.builder import ElementMaker

from ctm_plugin.adapters.mimosa.client import HOST_NS, Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault, HostMismatch, HostProtocolError, HostUnavailable
from ctm_plugin.adapters.mimosa.services import VENDORED, vendored_documents
from ctm_plugin.adapters.mimosa.testing import answer, closed_port, loopback
from ctm_plugin.security import xml
from mimosa_host.demo import api_credentials
from mimosa_host.soap.travel_desk import book_requested

H = ElementMaker(namespace=HOST_NS, nsmap={None: HOST_NS})
FAMILY, GIVEN, PASSPORT = "Phanomwan", "Kesinee", "P7730461"


def q(name: str) -> str:
    return f"{{{HOST_NS}}}{name}"


def connect(live_host, mission: str = "THA", **overrides) -> HostClient:  # noqa: ANN001, ANN003
    username, password = api_credentials(mission)
    settings = {"base_url": live_host.base_url, "username": username, "password": password, **overrides}
    return HostClient(Connection(**settings))


def beneficiary(mission: str = "THA", sex: str = "F", identity: tuple[str, int] | None = None) -> etree._Element:
    head = [H.BeneficiaryId(identity[0])] if identity else []
    tail = [H.RecordVersion(str(identity[1]))] if identity else []
    return H.Beneficiary(
        *head,
        H.MissionCode(mission),
        H.Name(H.FamilyName(FAMILY), H.GivenName(GIVEN)),
        H.Sex(sex),
        H.BirthDate("1999-04-02", estimated="true"),
        H.Nationality("MMR"),
        H.Documents(H.Document(type="PASSPORT", number=PASSPORT, issuingCountry="MMR")),
        H.Languages(H.Language("mya")),
        H.Vulnerabilities(H.Code("VOT")),
        H.ProjectCode(f"{mission}-CT-01"),
        *tail,
    )


def movement_request(beneficiary_id: str = "BEN-1000006", mission: str = "THA") -> etree._Element:
    return H.MovementRequest(
        H.MissionCode(mission),
        H.ProjectCode(f"{mission}-CT-01"),
        H.MovementType("AVRR"),
        H.Beneficiaries(H.BeneficiaryId(beneficiary_id)),
        H.Origin(country="THA", location="BKK"),
        H.Destination(country="MMR", location="RGN"),
        H.EarliestDeparture("2027-01-15"),
        H.Escort(type="NONE"),
        H.FitToTravel("true"),
    )


# -- every operation -------------------------------------------------------------------------


def test_get_beneficiary(live_host) -> None:  # noqa: ANN001
    record = connect(live_host).get_beneficiary("BEN-1000001")
    assert record.tag == q("Beneficiary")
    assert record.findtext(q("BeneficiaryId")) == "BEN-1000001"
    assert record.findtext(q("MissionCode")) == "THA"


def test_find_beneficiaries_pages_and_filters(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    page = client.find_beneficiaries(mission_code="THA", page=2, page_size=15)
    assert (page.total, page.page, len(page.items)) == (40, 2, 15)
    assert all(item.tag == q("Beneficiary") for item in page.items)

    one = client.get_beneficiary("BEN-1000007")
    family = one.findtext(f"{q('Name')}/{q('FamilyName')}")
    number = one.find(f"{q('Documents')}/{q('Document')}").get("number")
    found = client.find_beneficiaries(family_name=family[:3].lower(), document_number=number)
    assert [item.findtext(q("BeneficiaryId")) for item in found.items] == ["BEN-1000007"]
    later = client.find_beneficiaries(modified_since=datetime.now(UTC) + timedelta(days=1))
    assert (later.total, later.items) == (0, [])


def test_save_beneficiary_creates_then_updates(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    created = client.save_beneficiary(beneficiary(), "ref-create-1")
    assert created.beneficiary_id.startswith("BEN-0") and created.record_version == 1
    assert client.save_beneficiary(beneficiary(), "ref-create-1") == created  # the host's idempotency

    stored = client.get_beneficiary(created.beneficiary_id)
    assert stored.findtext(f"{q('Name')}/{q('FamilyName')}") == FAMILY
    assert stored.find(q("BirthDate")).get("estimated") in ("true", "1")

    identity = (created.beneficiary_id, created.record_version)
    updated = client.save_beneficiary(beneficiary(sex="X", identity=identity), "ref-update-1")
    assert updated.record_version > created.record_version
    assert client.get_beneficiary(created.beneficiary_id).findtext(q("Sex")) == "X"

    with pytest.raises(HostFault) as caught:  # the version this side saw is no longer the host's
        client.save_beneficiary(beneficiary(sex="M", identity=identity), "ref-update-2")
    assert (caught.value.code, caught.value.retryable) == ("CONFLICT", False)


def test_book_find_get_cancel_and_the_change_feed(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    start = client.get_movement_changes(max_changes=1000)
    while len((more := client.get_movement_changes(start.next_token)).changes):
        start = more

    booked = client.book_movement(movement_request(), "ref-book-1")
    assert booked.movement_id.startswith("MOV-0") and booked.status == "REQUESTED"
    movement = client.get_movement(booked.movement_id)
    assert (movement.movement_id, movement.status, movement.mission_code) == (booked.movement_id, "REQUESTED", "THA")
    assert movement.beneficiary_ids == ("BEN-1000006",)
    found = client.find_movement_by_reference("ref-book-1", movement_request())
    assert found == movement
    assert client.find_movement_by_reference("ref-never-sent") is None

    assert client.cancel_movement(booked.movement_id, "BENEFICIARY_WITHDREW") == "CANCELLED"
    batch = client.get_movement_changes(since_token=start.next_token, max_changes=10)
    ours = [change for change in batch.changes if change.movement_id == booked.movement_id]
    assert [change.status for change in ours][-1] == "CANCELLED"
    assert all(change.client_reference == "ref-book-1" for change in ours)
    assert all(change.changed_at.tzinfo is not None for change in ours)
    assert batch.next_token != start.next_token


def test_the_change_feed_gives_legs_as_json_ready_dicts(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    booked = client.book_movement(movement_request(), "ref-legs-1")
    assert book_requested(live_host.rt.factory, datetime.now(UTC), delay=timedelta(0)) == [booked.movement_id]
    changes = client.get_movement_changes(max_changes=1000).changes
    legs = next(change.legs for change in changes if change.status == "BOOKED")
    assert legs and json.loads(json.dumps(legs)) == legs
    assert set(legs[0]) == {"sequence", "carrier", "flight_number", "from", "to", "departure", "arrival"}
    assert [leg["sequence"] for leg in legs] == list(range(1, len(legs) + 1))
    assert datetime.fromisoformat(legs[0]["departure"]).utcoffset() == timedelta(0)


# -- an answer about something else ------------------------------------------------------------


def test_a_beneficiary_answered_with_another_persons_record_is_refused(live_host) -> None:  # noqa: ANN001
    live_host.faults.beneficiary_answered_as = "BEN-2000001"  # Cambodia's
    with pytest.raises(HostMismatch) as caught:
        connect(live_host).get_beneficiary("BEN-1000001", "THA")
    assert (caught.value.asked, caught.value.got) == ("BEN-1000001", "BEN-2000001")
    live_host.faults.beneficiary_answered_as = "BEN-1000002"  # the same mission, another person
    with pytest.raises(HostMismatch):
        connect(live_host).get_beneficiary("BEN-1000001", "THA")


def test_a_lookup_about_another_persons_movement_is_refused(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    client.book_movement(movement_request("BEN-1000007"), "ref-other-1")
    with pytest.raises(HostMismatch):
        client.find_movement_by_reference("ref-other-1", movement_request("BEN-1000008"))
    assert client.find_movement_by_reference("ref-other-1", movement_request("BEN-1000007")) is not None


def test_a_lookup_the_host_answers_unreadably_is_a_protocol_error(live_host) -> None:  # noqa: ANN001
    client = connect(live_host)
    client.book_movement(movement_request(), "ref-unreadable-1")
    live_host.faults.unreadable_lookups = 1
    with pytest.raises(HostProtocolError):
        client.find_movement_by_reference("ref-unreadable-1")
    assert client.find_movement_by_reference("ref-unreadable-1") is not None  # for a while only


# -- business faults -------------------------------------------------------------------------


def test_another_missions_record_is_forbidden(live_host) -> None:  # noqa: ANN001
    with pytest.raises(HostFault) as caught:
        connect(live_host, "THA").get_beneficiary("BEN-3000001")  # Moldova's
    assert caught.value.code == "FORBIDDEN_MISSION" and not caught.value.retryable


def test_an_invalid_record_names_its_fields(live_host) -> None:  # noqa: ANN001
    with pytest.raises(HostFault) as caught:
        connect(live_host).save_beneficiary(beneficiary(sex="Q"), "ref-invalid-1")
    assert caught.value.code == "VALIDATION" and "Sex" in caught.value.fields


def test_a_wrong_password_is_unauthorized(live_host) -> None:  # noqa: ANN001
    with pytest.raises(HostFault) as caught:
        connect(live_host, password="not-the-password").get_beneficiary("BEN-1000001")
    assert caught.value.code == "UNAUTHORIZED" and not caught.value.retryable


# -- the host away, slow, or losing its answer ---------------------------------------------


def test_a_host_that_is_down_is_unavailable_and_not_ambiguous(live_host) -> None:  # noqa: ANN001
    with pytest.raises(HostUnavailable) as caught:
        connect(live_host, base_url=f"http://127.0.0.1:{closed_port()}").get_beneficiary("BEN-1000001")
    assert (caught.value.ambiguous, caught.value.retryable) == (False, True)


def test_a_slow_host_is_ambiguous_within_the_operation_timeout(live_host, monkeypatch) -> None:  # noqa: ANN001
    soap, answered = live_host.app.extensions["mimosa_soap"], threading.Event()
    real = soap.soap

    def soap_then_tell(request, service):  # noqa: ANN001, ANN202
        try:
            return real(request, service)
        finally:
            answered.set()

    monkeypatch.setattr(soap, "soap", soap_then_tell)
    live_host.faults.latency = 1.5
    client = connect(live_host, operation_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(HostUnavailable) as caught:
        client.book_movement(movement_request(), "ref-slow-1")
    assert time.monotonic() - started < 0.5 + 1
    assert (caught.value.code, caught.value.ambiguous) == ("TIMEOUT", True)
    assert answered.wait(timeout=30)  # the host goes on with the request it was given: it books
    live_host.faults.latency = 0.0
    assert connect(live_host).find_movement_by_reference("ref-slow-1") is not None  # a patient client


# The connection is cut at once (the client's wait must outlast the host's booking, even on a busy
# machine), or held past the client's wait.
@pytest.mark.parametrize(("hold", "wait", "code"), [(0.0, 10.0, "CONNECTION_LOST"), (2.0, 0.5, "TIMEOUT")])
def test_a_reply_lost_after_the_commit_is_ambiguous_and_found_by_reference(live_host, hold, wait, code) -> None:  # noqa: ANN001
    live_host.faults.drop_reply, live_host.faults.drop_reply_after = 1, hold
    live_host.faults.dropped.clear()
    client = connect(live_host, operation_timeout=wait)
    with pytest.raises(HostUnavailable) as caught:
        client.book_movement(movement_request(), "ref-lost-1")
    assert (caught.value.code, caught.value.ambiguous) == (code, True)
    assert live_host.faults.dropped.wait(timeout=30)  # the host committed, whenever a busy machine let it
    live_host.faults.drop_reply_after = 0.0
    found = connect(live_host).find_movement_by_reference("ref-lost-1")
    assert found is not None and found.status == "REQUESTED"


def test_unavailable_is_a_retryable_host_fault(live_host) -> None:  # noqa: ANN001
    live_host.faults.unavailable = 1
    client = connect(live_host)
    with pytest.raises(HostFault) as caught:
        client.get_beneficiary("BEN-1000001")
    assert (caught.value.code, caught.value.retryable, caught.value.http_status) == ("UNAVAILABLE", True, 503)
    assert client.get_beneficiary("BEN-1000001") is not None  # the switch was for one request


# -- what the client lets in and lets out --------------------------------------------------

CANARY = "CANARY-5d1e9"
HOSTILE = (
    f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "{CANARY}">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    f'<GetBeneficiaryResponse xmlns="{HOST_NS}">&lol3;</GetBeneficiaryResponse></soap:Body></soap:Envelope>'
).encode()


def test_a_hostile_answer_is_a_protocol_error_that_quotes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with loopback(answer(200, HOSTILE)) as server, caplog.at_level(logging.DEBUG):
        client = HostClient(Connection(server.base_url, "ctm-tha", "whatever-password"))
        with pytest.raises(HostProtocolError) as caught:
            client.get_beneficiary("BEN-1000001")
    shown = "".join(traceback.format_exception(caught.value))
    assert CANARY not in shown and not caught.value.retryable
    assert CANARY not in caplog.text


def test_no_secret_or_personal_data_reaches_a_log(live_host, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    client = connect(live_host)
    username, password = api_credentials("THA")
    with caplog.at_level(logging.DEBUG):  # the root logger, and so everything under it
        saved = client.save_beneficiary(beneficiary(), "ref-log-1")
        client.get_beneficiary(saved.beneficiary_id)
        client.find_beneficiaries(document_number=PASSPORT)
        client.book_movement(movement_request(saved.beneficiary_id), "ref-log-2")
    assert caplog.records, "DEBUG logging was on"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (password, FAMILY, GIVEN, PASSPORT, "Nonce", "PasswordDigest", "UsernameToken"):
        assert secret not in logged


# -- the vendored contract is the one the host serves ---------------------------------------


def canonical(data: bytes) -> bytes:
    root = xml.parse(data)
    for address in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
        address.set("location", "")
    return etree.tostring(root, method="c14n2", strip_text=True)


@pytest.mark.parametrize("name", VENDORED)
def test_the_vendored_files_are_what_the_host_serves(live_host, name: str) -> None:  # noqa: ANN001
    path = f"soap/{name}" if name.endswith(".xsd") else f"soap/{name.removesuffix('.wsdl')}?wsdl"
    served = requests.get(live_host.base_url.rstrip("/") + "/" + path, timeout=5)
    assert served.status_code == 200
    vendored = next(data for location, data in vendored_documents().items() if location.endswith(name))
    assert canonical(served.content) == canonical(vendored)
