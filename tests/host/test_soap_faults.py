"""The test-only fault switches (TST-05), and what an unexpected failure looks like to a client."""

from __future__ import annotations

import logging
import time
from datetime import date

import pytest
import requests
import sqlalchemy as sa

from mimosa_host.models import Movement
from mimosa_host.soap import movements as movement_service
from mimosa_host.soap.faults import FaultSwitches
from mimosa_host.web import create_app

SERVICE = "MovementService"
CANARY = "Jane Roe canary-77ab"
REQUEST = {
    "MissionCode": "THA",
    "ProjectCode": "THA-CT-01",
    "MovementType": "AVRR",
    "Beneficiaries": {"BeneficiaryId": ["BEN-1000010"]},
    "Origin": {"country": "THA", "location": "BKK"},
    "Destination": {"country": "MMR", "location": "RGN"},
    "EarliestDeparture": date(2027, 1, 15),
    "Escort": {"type": "NONE"},
    "FitToTravel": True,
}


def book(client, reference: str):  # noqa: ANN001, ANN201
    return client.service.BookMovement(MovementRequest=REQUEST, ClientReference=reference)


def booked(rt) -> int:  # noqa: ANN001
    with rt.factory() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Movement).where(Movement.movement_id.like("MOV-0%")))


def test_a_new_app_has_every_switch_off_and_no_request_turns_one_on(live_host, soap_client, monkeypatch) -> None:  # noqa: ANN001
    for name in ("MIMOSA_SOAP_FAULTS", "MIMOSA_SOAP_UNAVAILABLE", "UNAVAILABLE", "DROP_REPLY", "LATENCY"):
        monkeypatch.setenv(name, "5")
    fresh = create_app(live_host.rt)  # as `mimosa-host serve` makes it
    assert fresh.extensions["mimosa_soap"].faults.is_off()
    assert live_host.faults.is_off()
    switches = ("latency", "unavailable", "drop_reply", "drop_reply_after", "duplicate_changes", "faults")
    tries = {f"X-{name}": "5" for name in switches} | {f"X-Mimosa-{name}": "5" for name in switches}
    query = "&".join(f"{name}=5" for name in switches)
    message = soap_client(SERVICE).message("GetMovementChanges", MaxChanges=5)
    for path in (f"?{query}", f"?wsdl&{query}"):
        requests.post(live_host.soap_url(SERVICE) + path, data=message, headers=tries, timeout=10)
        requests.get(live_host.soap_url(SERVICE) + path, headers=tries, timeout=10)
    assert live_host.faults == FaultSwitches()


def test_unavailable_answers_503_without_processing(live_host, soap_client, soap_fault) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    live_host.faults.unavailable = 2
    assert soap_fault(book, client, "u-1") == ("soap:Server", "UNAVAILABLE", [])
    raw = requests.post(
        live_host.soap_url(SERVICE), data=client.message("GetMovementChanges", MaxChanges=1), timeout=10
    )
    assert raw.status_code == 503 and soap_fault(raw.content)[1] == "UNAVAILABLE"
    assert live_host.faults.unavailable == 0 and booked(live_host.rt) == 0
    assert book(client, "u-1").Status == "REQUESTED"


def test_latency_delays_every_request_while_set(live_host, soap_client) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    live_host.faults.latency = 0.3
    for _ in range(2):
        started = time.monotonic()
        client.service.GetMovementChanges(MaxChanges=1)
        assert time.monotonic() - started >= 0.3


def test_drop_reply_commits_then_closes_the_connection(live_host, soap_client) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    live_host.faults.drop_reply = 1
    with pytest.raises(requests.exceptions.ConnectionError):
        book(client, "d-1")
    assert live_host.faults.drop_reply == 0 and booked(live_host.rt) == 1
    found = client.service.FindMovementByReference(ClientReference="d-1")
    assert book(client, "d-1").MovementId == found.MovementId  # the retry gets the stored answer
    assert booked(live_host.rt) == 1

    # Held past the client's read timeout first: the client sees a read timeout instead.
    client.client.transport.operation_timeout = 0.2
    live_host.faults.drop_reply, live_host.faults.drop_reply_after = 1, 2.0
    live_host.faults.dropped.clear()
    with pytest.raises(requests.exceptions.ReadTimeout):
        book(client, "d-2")
    assert live_host.faults.dropped.wait(timeout=30)  # the host committed, whenever a busy machine let it
    assert booked(live_host.rt) == 2


def test_duplicate_changes_delivers_the_first_change_twice(live_host, soap_client) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    empty = client.service.GetMovementChanges(MaxChanges=10)
    book(client, "c-1")
    book(client, "c-2")
    latest = client.service.GetMovementChanges(SinceToken=empty.NextToken, MaxChanges=10).NextToken
    live_host.faults.duplicate_changes = 1
    assert client.service.GetMovementChanges(SinceToken=latest, MaxChanges=10).MovementChange == []  # it waits
    twice = client.service.GetMovementChanges(SinceToken=empty.NextToken, MaxChanges=10)
    assert [c.ClientReference for c in twice.MovementChange] == ["c-1", "c-1", "c-2"]
    once = client.service.GetMovementChanges(SinceToken=empty.NextToken, MaxChanges=10)
    assert [c.ClientReference for c in once.MovementChange] == ["c-1", "c-2"]
    assert twice.NextToken == once.NextToken


def test_an_unexpected_failure_is_a_generic_server_fault(
    live_host, soap_client, soap_fault, monkeypatch, caplog
) -> None:  # noqa: ANN001
    def broken(session, call):  # noqa: ANN001, ANN202
        raise RuntimeError(CANARY)  # the log shows this line, not the value

    monkeypatch.setitem(movement_service.OPERATIONS, "GetMovement", broken)
    client = soap_client(SERVICE)
    with caplog.at_level(logging.ERROR):
        assert soap_fault(client.service.GetMovement, MovementId="MOV-1000001") == ("soap:Server", "SERVER_ERROR", [])
        raw = requests.post(live_host.soap_url(SERVICE), data=client.message("GetMovement", MovementId="MOV-1000001"))
    assert raw.status_code == 500 and b"canary" not in raw.content and b"RuntimeError" not in raw.content
    assert "RuntimeError" in caplog.text and "canary" not in caplog.text
