"""The contract host keeps the contract: strict on requests, lax on answers, faults as it says.

Requests are built by hand (and by the plugin's client, which also shows the plugin reads
the lax answers); no database: the host keeps its records in memory.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from lxml import etree
from lxml.builder import ElementMaker

from contract_host import store
from contract_host.server import NS, SOAP, WSSE, WSU, ContractHost
from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault, HostProtocolError, HostUnavailable

PACKAGE = Path(__file__).parent
H = ElementMaker(namespace=NS, nsmap={"m": NS})
USER, PASSWORD = "api-tha", "tha-secret"


@pytest.fixture
def host() -> Iterator[ContractHost]:
    records = store.Store()
    records.add_api_user(USER, PASSWORD, ["THA"])
    records.add_api_user("api-khm", "khm-secret", ["KHM"])
    for number, mission in ((1, "THA"), (2, "THA"), (3, "KHM")):
        records.put_beneficiary(
            store.Beneficiary(
                beneficiary_id=f"BEN-000000{number}",
                mission_code=mission,
                family_name=f"Synthetic{number}",
                given_name="Person",
                sex="F",
                birth_date=date(1990, 1, number),
                nationality="MMR",
                documents=[store.Document("PASSPORT", f"X{number}", "MMR")],
                languages=["mya"],
                project_code=f"{mission}-P1",
            )
        )
    served = ContractHost(records).start()
    yield served
    served.stop()


def client(host: ContractHost, username: str = USER, password: str = PASSWORD) -> HostClient:
    return HostClient(Connection(host.base_url, username, password))


def request_of(project: str | None = "THA-P1", person: str = "BEN-0000001") -> etree._Element:
    return H.MovementRequest(
        H.MissionCode("THA"),
        *([H.ProjectCode(project)] if project else []),
        H.MovementType("AVRR"),
        H.Beneficiaries(H.BeneficiaryId(person)),
        H.Origin(country="THA", location="BKK"),
        H.Destination(country="MMR", location="RGN"),
        H.EarliestDeparture("2027-01-15"),
        H.Escort(type="NONE"),
        H.FitToTravel("true"),
    )


def security(username: str = USER, password: str = PASSWORD, *, skew=timedelta(), nonce=None, stamp=True):  # noqa: ANN001, ANN201
    nonce = nonce or os.urandom(16)
    created = (datetime.now(UTC) + skew).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    wsse, wsu = ElementMaker(namespace=WSSE), ElementMaker(namespace=WSU)
    token = wsse.UsernameToken(
        wsse.Username(username),
        wsse.Password(
            digest, Type=f"{WSSE.rsplit('/', 1)[0]}/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
        ),
        wsse.Nonce(base64.b64encode(nonce).decode()),
        wsu.Created(created),
    )
    return wsse.Security(token, *([wsu.Timestamp(wsu.Created(created))] if stamp else []))


def post(
    host: ContractHost, service: str, payload: etree._Element, header=None, prolog: bytes = b""
) -> requests.Response:  # noqa: ANN001
    env = ElementMaker(namespace=SOAP, nsmap={"soapenv": SOAP})
    envelope = env.Envelope(env.Header(*([security()] if header is None else header)), env.Body(payload))
    action = f'"{NS}/{etree.QName(payload).localname}"'
    body = prolog + etree.tostring(envelope)
    return requests.post(f"{host.base_url}/soap/{service}", data=body, headers={"SOAPAction": action}, timeout=10)


def fault_of(response: requests.Response) -> tuple[str, str, list[str]]:
    fault = etree.fromstring(response.content).find(f".//{{{SOAP}}}Fault")
    detail = fault.find(f"detail/{{{NS}}}HostFault")
    return (
        fault.findtext("faultcode"),
        detail.findtext(f"{{{NS}}}Code"),
        [f.text for f in detail.iterfind(f"{{{NS}}}Field")],
    )


# -- the package stands alone -------------------------------------------------------------------


def test_the_contract_host_imports_nothing_of_the_reference_host():
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert "mimosa_host" not in imported and "ctm_plugin" in imported  # the plugin: in its tests only
    script = "import sys, contract_host.server; print(sorted(n for n in sys.modules if n.startswith('mimosa_host')))"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env)
    assert loaded.stdout.strip() == "[]"


# -- every operation, read by the plugin's client, whatever the answer's framing ----------------


@pytest.mark.parametrize("framing", ["chunked", "close", "mixed"])
def test_the_plugins_client_reads_every_operations_answer(host: ContractHost, framing: str):
    host.framing = framing
    ctm = client(host)
    person = ctm.get_beneficiary("BEN-0000001")
    assert person.findtext(f"{{{NS}}}Name/{{{NS}}}FamilyName") == "Synthetic1"
    found = ctm.find_beneficiaries(family_name="synth", page=1, page_size=1)
    assert (found.total, found.page, len(found.items)) == (2, 1, 1)  # THA's two; KHM's is not this user's

    booked = ctm.book_movement(request_of(), "ref-1")
    assert booked.status == "REQUESTED"
    assert ctm.find_movement_by_reference("ref-1").movement_id == booked.movement_id
    assert ctm.find_movement_by_reference("ref-unknown") is None
    host.store.advance(booked.movement_id, "BOOKED")
    assert ctm.get_movement(booked.movement_id).status == "BOOKED"
    assert ctm.cancel_movement(booked.movement_id, "BENEFICIARY_WITHDREW") == "CANCELLED"
    with pytest.raises(HostFault) as caught:
        ctm.cancel_movement(booked.movement_id, "OTHER")
    assert caught.value.code == "INVALID_STATE"

    batch = ctm.get_movement_changes()
    assert [c.status for c in batch.changes] == ["REQUESTED", "BOOKED", "CANCELLED"]
    assert {c.client_reference for c in batch.changes} == {"ref-1"}
    again = ctm.get_movement_changes(batch.next_token)
    assert (again.next_token, again.changes) == (batch.next_token, [])


def test_the_feed_shows_the_callers_missions_only_and_refuses_a_token_it_never_gave(host: ContractHost):
    client(host).book_movement(request_of(), "ref-1")
    khm = client(host, "api-khm", "khm-secret")
    batch = khm.get_movement_changes()
    assert batch.changes == [] and batch.next_token == "1"  # past THA's change, without showing it
    with pytest.raises(HostFault) as caught:
        khm.get_movement_changes("99")
    assert (caught.value.code, caught.value.fields) == ("VALIDATION", ("SinceToken",))


def test_a_save_creates_then_updates_by_record_version_and_a_stale_one_is_a_conflict(host: ContractHost):
    ctm = client(host)
    record = ctm.get_beneficiary("BEN-0000002")
    record.find(f"{{{NS}}}Sex").text = "X"
    saved = ctm.save_beneficiary(record, "save-1")
    assert saved.record_version == 2 and host.store.beneficiary("BEN-0000002").sex == "X"
    assert ctm.save_beneficiary(record, "save-1") == saved  # the same reference, the same answer
    with pytest.raises(HostFault) as caught:
        ctm.save_beneficiary(record, "save-2")  # still version 1
    assert (caught.value.code, caught.value.fields) == ("CONFLICT", ("RecordVersion",))
    for name in ("BeneficiaryId", "RecordVersion", "LastModified"):
        record.remove(record.find(f"{{{NS}}}{name}"))
    created = ctm.save_beneficiary(record, "save-3")
    assert created.beneficiary_id != "BEN-0000002" and created.record_version == 1


# -- strict on requests ---------------------------------------------------------------------------


def test_a_movement_request_without_project_code_is_refused_naming_it(host: ContractHost):
    with pytest.raises(HostFault) as caught:
        client(host).book_movement(request_of(project=None), "ref-1")
    assert (caught.value.code, caught.value.fields) == ("VALIDATION", ("ProjectCode",))
    assert host.store.movements == {}


def _swap_origin_and_destination(request: etree._Element) -> None:
    origin = request.find(f"{{{NS}}}Origin")
    request.remove(origin)
    request.find(f"{{{NS}}}Destination").addnext(origin)


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda r: r.remove(r.find(f"{{{NS}}}FitToTravel")), "FitToTravel"),
        (lambda r: r.find(f"{{{NS}}}Beneficiaries").clear(), "BeneficiaryId"),
        (lambda r: r.find(f"{{{NS}}}Escort").set("type", "ARMED"), "Escort"),
        (lambda r: r.find(f"{{{NS}}}EarliestDeparture").__setattr__("text", "15/01/2027"), "EarliestDeparture"),
        (lambda r: r.append(H.Status("BOOKED")), "Status"),
        (_swap_origin_and_destination, "Origin"),  # not where the contract puts it
    ],
    ids=["missing", "no-beneficiary", "bad-code", "bad-date", "status-in-a-request", "out-of-order"],
)
def test_a_request_off_the_contract_is_refused_naming_the_element(host: ContractHost, spoil, field: str):  # noqa: ANN001
    request = request_of()
    spoil(request)
    with pytest.raises(HostFault) as caught:
        client(host).book_movement(request, "ref-1")
    assert (caught.value.code, caught.value.fields) == ("VALIDATION", (field,))
    assert host.store.movements == {}


def test_a_reference_is_the_callers_and_a_different_payload_under_it_is_refused(host: ContractHost):
    ctm = client(host)
    first = ctm.book_movement(request_of(), "ref-1")
    assert ctm.book_movement(request_of(), "ref-1") == first
    with pytest.raises(HostFault) as caught:
        ctm.book_movement(request_of(person="BEN-0000002"), "ref-1")
    assert caught.value.code == "DUPLICATE_REFERENCE"
    assert len(host.store.movements) == 1


def test_an_api_user_touches_only_its_missions(host: ContractHost):
    with pytest.raises(HostFault) as caught:
        client(host).get_beneficiary("BEN-0000003")
    assert caught.value.code == "FORBIDDEN_MISSION"
    with pytest.raises(HostFault) as caught:
        client(host, "api-khm", "khm-secret").book_movement(request_of(), "ref-1")
    assert caught.value.code == "FORBIDDEN_MISSION"


@pytest.mark.parametrize(
    "header",
    [
        None,
        {"password": "wrong"},
        {"username": "nobody"},
        {"skew": timedelta(minutes=6)},
        {"skew": -timedelta(minutes=6)},
        {"stamp": False},
    ],
    ids=["no-header", "wrong-digest", "unknown-user", "created-ahead", "created-behind", "no-timestamp"],
)
def test_who_cannot_show_a_fresh_digest_is_unauthorized(host: ContractHost, header: dict | None):
    sent = [] if header is None else [security(**header)]  # made now: the clock matters
    response = post(host, "BeneficiaryService", H.GetBeneficiary(H.BeneficiaryId("BEN-0000001")), sent)
    assert (response.status_code, fault_of(response)[:2]) == (500, ("S:Client", "UNAUTHORIZED"))


def test_a_nonce_is_accepted_once(host: ContractHost):
    def ask() -> requests.Response:
        return post(
            host, "BeneficiaryService", H.GetBeneficiary(H.BeneficiaryId("BEN-0000001")), [security(nonce=b"n" * 16)]
        )

    assert ask().status_code == 200
    assert fault_of(ask())[1] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "prolog",
    [b'<!DOCTYPE x [<!ENTITY e "boom">]>', b"<!DOCTYPE x SYSTEM 'http://127.0.0.1:9/x.dtd'>"],
    ids=["entity", "external-dtd"],
)
def test_a_doctype_is_refused_before_anything_is_done(host: ContractHost, prolog: bytes):
    response = post(host, "MovementService", H.BookMovement(request_of(), H.ClientReference("ref-1")), prolog=prolog)
    assert fault_of(response)[0] == "S:Client" and host.store.movements == {}


def test_a_body_over_two_megabytes_is_refused(host: ContractHost):
    remarks = H.Remarks("x" * (2 * 1024 * 1024))
    request = request_of()
    request.append(remarks)
    response = post(host, "MovementService", H.BookMovement(request, H.ClientReference("ref-1")))
    assert fault_of(response)[0] == "S:Client" and host.store.movements == {}


# -- lax on answers -------------------------------------------------------------------------------


def test_answers_use_another_prefix_a_default_namespace_no_content_length_and_leave_optional_parts_out(
    host: ContractHost,
):
    ctm = client(host)
    booked = ctm.book_movement(request_of(), "ref-1")
    response = post(host, "MovementService", H.GetMovement(H.MovementId(booked.movement_id)))
    assert response.status_code == 200 and "Content-Length" not in response.headers
    text = response.content.decode()
    assert "<S:Envelope" in text and f'xmlns="{NS}"' in text and "\n  " in text
    assert "<Legs" not in text and "MiddleName" not in text


# -- the fault switches ---------------------------------------------------------------------------


def test_unavailable_is_a_server_fault_with_503_and_nothing_is_done(host: ContractHost):
    host.faults.unavailable = 1
    response = post(host, "MovementService", H.BookMovement(request_of(), H.ClientReference("ref-1")))
    assert (response.status_code, fault_of(response)[:2]) == (503, ("S:Server", "UNAVAILABLE"))
    assert host.store.movements == {}


def test_a_reply_dropped_after_the_commit_leaves_the_booking_in_the_host(host: ContractHost):
    host.faults.drop_reply = 1
    with pytest.raises(HostUnavailable) as caught:
        client(host).book_movement(request_of(), "ref-1")
    assert caught.value.ambiguous
    assert client(host).find_movement_by_reference("ref-1") is not None


def test_lookups_can_be_made_unreadable_for_a_while(host: ContractHost):
    client(host).book_movement(request_of(), "ref-1")
    host.faults.unreadable_lookups = 2
    for _ in range(2):
        with pytest.raises(HostProtocolError):
            client(host).find_movement_by_reference("ref-1")
    assert client(host).find_movement_by_reference("ref-1") is not None


def test_fault_rates_repeat_with_the_seed(host: ContractHost):
    def outcomes() -> list[str]:
        host.faults.rng.seed(7)
        host.faults.unavailable_rate = 0.5
        seen = []
        for _ in range(12):
            try:
                client(host).get_beneficiary("BEN-0000001")
                seen.append("ok")
            except HostFault as fault:
                seen.append(fault.code)
        return seen

    first = outcomes()
    assert first == outcomes() and {"ok", "UNAVAILABLE"} == set(first)


# -- answers the contract allows: the plugin reads what it needs of them ---------------------------------


def _long_remarks(host: ContractHost, movement_id: str) -> None:
    with host.store.lock:  # the travel desk writes remarks; the contract sets them no length
        host.store.movements[movement_id].remarks = "Seat 12A, aisle requested. " * 25


def _spaced_flight_number(host: ContractHost, movement_id: str) -> None:
    departure = datetime(2027, 1, 15, 8, tzinfo=UTC)  # the contract gives FlightNumber no pattern
    leg = store.Leg(1, "Demo Air", "DA 101", "BKK", "RGN", departure, departure + timedelta(hours=3))
    host.store.advance(movement_id, "BOOKED", [leg])


@pytest.mark.parametrize("change", [_long_remarks, _spaced_flight_number], ids=["remarks-600", "flight-number"])
def test_the_plugin_reconciles_from_any_lookup_answer_the_contract_allows(host: ContractHost, change):  # noqa: ANN001
    ctm = client(host)
    booked = ctm.book_movement(request_of(), "ref-1")
    change(host, booked.movement_id)
    assert ctm.find_movement_by_reference("ref-1").movement_id == booked.movement_id
