"""Hostile XML sent raw to both SOAP endpoints (TST-01, XML-02, XML-05, XML-06, XML-08): each is
refused with a ``soap:Client`` fault, nothing is stored, no file is read and no connection made."""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from lxml import etree

from mimosa_host.models import Beneficiary, Movement
from mimosa_host.soap import xml
from mimosa_host.soap.models import ClientRequest, MovementChange

PERSON = {
    "MissionCode": "THA",
    "Name": {"FamilyName": "Roe", "GivenName": "Jane"},
    "Sex": "F",
    "Documents": {"Document": []},
    "Languages": {"Language": []},
    "Vulnerabilities": {"Code": []},
}
MOVEMENT = {
    "MissionCode": "THA",
    "ProjectCode": "THA-CT-01",
    "MovementType": "AVRR",
    "Beneficiaries": {"BeneficiaryId": ["BEN-1000010"]},
    "Origin": {"country": "THA", "location": "BKK"},
    "Destination": {"country": "MMR", "location": "RGN"},
    "EarliestDeparture": "2027-01-15",
    "Escort": {"type": "NONE"},
    "FitToTravel": True,
}
WRITES = {
    "BeneficiaryService": ("SaveBeneficiary", {"Beneficiary": PERSON, "ClientReference": "hostile"}),
    "MovementService": ("BookMovement", {"MovementRequest": MOVEMENT, "ClientReference": "hostile"}),
}
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:mimosa:host:v1">'
    b"<soap:Body>%s</soap:Body></soap:Envelope>"
)


@pytest.fixture
def listener() -> Iterator[int]:
    """A loopback port that accepts TCP connections into its backlog; the test then checks it got none."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def corpus(valid: Callable[[], bytes], canary: str, port: int) -> dict[str, tuple[bytes, dict[str, str]]]:
    """name → (body, extra headers). ``valid()`` renders a well-formed request with a valid WS-Security
    header (a fresh nonce each time), so that those cases get past authentication."""
    remote = f"http://127.0.0.1:{port}"
    laughs = b'<!ENTITY a "lol">' + b"".join(
        b'<!ENTITY %c "%s">' % (ord("b") + i, (b"&%c;" % (ord("a") + i)) * 10) for i in range(8)
    )
    body = b"<m:GetMovement><m:MovementId>%s</m:MovementId></m:GetMovement>"
    dtd_cases = {
        "doctype internal subset": b'<!DOCTYPE e [<!ELEMENT e ANY><!ATTLIST e a CDATA "x">]>'
        + ENVELOPE % body % b"MOV-1",
        "billion laughs": b"<!DOCTYPE e [" + laughs + b"]>" + ENVELOPE % body % b"&i;",
        "external entity file": b'<!DOCTYPE e [<!ENTITY x SYSTEM "file://%s">]>' % canary.encode()
        + ENVELOPE % body % b"&x;",
        "external entity http": b'<!DOCTYPE e [<!ENTITY x SYSTEM "%s/x">]>' % remote.encode()
        + ENVELOPE % body % b"&x;",
        "external parameter entity": b'<!DOCTYPE e [<!ENTITY %% p SYSTEM "%s/p.dtd"> %%p;]>' % remote.encode()
        + ENVELOPE % body % b"MOV-1",
        "SYSTEM DTD": b'<!DOCTYPE e SYSTEM "%s/e.dtd">' % remote.encode() + ENVELOPE % body % b"MOV-1",
    }
    cases = {name: (payload, {}) for name, payload in dtd_cases.items()}
    cases["DOCTYPE in UTF-16"] = (
        ('<?xml version="1.0" encoding="UTF-16"?>' + dtd_cases["SYSTEM DTD"].decode()).encode("utf-16"),
        {},
    )
    cases["undeclared entity"] = (ENVELOPE % body % b"&x;", {})
    xinclude = (
        b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://%s" parse="text"/>' % canary.encode()
    )
    cases["XInclude"] = (valid().replace(b"hostile</", b"hostile" + xinclude + b"</"), {})
    location = (
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:mimosa:host:v1 %s/x.xsd"'
    )
    message = valid()
    request_tag = message.index(b">", message.index(b"<", message.index(b"Body>")))
    cases["xsi:schemaLocation"] = (message[:request_tag] + location % remote.encode() + message[request_tag:], {})
    cases["3 MB body"] = (valid().replace(b"hostile</", b"hostile" + b" " * (3 * 1024 * 1024) + b"</"), {})
    cases["gzip"] = (gzip.compress(valid()), {"Content-Encoding": "gzip"})
    cases["300-deep nesting"] = (ENVELOPE % (b"<m:x>" * 300 + b"</m:x>" * 300), {})
    return cases


def counts(rt) -> list[int]:  # noqa: ANN001
    with rt.factory() as s:
        models = (Beneficiary, Movement, ClientRequest, MovementChange)
        return [s.scalar(sa.select(sa.func.count()).select_from(m)) for m in models]


@pytest.mark.parametrize("service", list(WRITES))
def test_hostile_xml_is_refused(service: str, soap_client, live_host, soap_fault, listener, tmp_path) -> None:  # noqa: ANN001
    canary = tmp_path / "canary.txt"
    secret = f"CANARY-{secrets.token_hex(8)}"
    canary.write_text(secret)
    operation, arguments = WRITES[service]
    client = soap_client(service)
    assert b"hostile</" in client.message(operation, **arguments)  # where the cases below inject
    before = counts(live_host.rt)
    url = live_host.soap_url(service)
    cases = corpus(lambda: client.message(operation, **arguments), str(canary), listener.getsockname()[1])
    for name, (payload, headers) in cases.items():
        headers = {"Content-Type": "text/xml; charset=utf-8", **headers}
        response = requests.post(url, data=payload, headers=headers, timeout=10)
        assert response.status_code in (400, 413, 500), name
        assert soap_fault(response.content)[:2] == ("soap:Client", "VALIDATION"), name
        assert secret.encode() not in response.content, name
    chunked = requests.post(url, data=iter([b" " * 1024 * 1024] * 3), headers={"Content-Type": "text/xml"}, timeout=10)
    assert chunked.status_code == 413 and soap_fault(chunked.content)[1] == "VALIDATION"
    assert counts(live_host.rt) == before
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection ever reached the loopback listener
    getattr(client.service, operation)(**arguments)  # while an honest request goes through
    assert counts(live_host.rt) != before


def _opens(fifo: Path, parse: Callable[[], object]) -> bool:
    """Whether ``parse()`` opens ``fifo``: a reader blocks until a writer comes, which this watcher is."""
    opened, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # fails while no one reads
            except OSError:
                time.sleep(0.002)
                continue
            opened.set()
            return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with contextlib.suppress(xml.XmlRefused, etree.XMLSyntaxError):
        parse()
    done.set()
    watcher.join()
    return opened.is_set()


def test_the_parser_never_opens_a_file_a_doctype_names(tmp_path) -> None:  # noqa: ANN001
    fifo = tmp_path / "dtd"
    os.mkfifo(fifo)
    doc = f'<!DOCTYPE e SYSTEM "file://{fifo}"><e/>'
    # The check works: a parser with one option more (collect_ids=False) does open it.
    careless = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)
    assert _opens(fifo, lambda: etree.fromstring(doc.encode(), careless))
    for data in (
        doc.encode(),
        doc.encode("utf-16"),
        ('<?xml version="1.0" encoding="UTF-16"?>' + doc).encode("utf-16"),
    ):
        assert not _opens(fifo, lambda data=data: xml.parse(data))
        assert not _opens(fifo, lambda data=data: etree.fromstring(data, xml.PARSER))  # past the byte check too
