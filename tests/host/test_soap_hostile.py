"""Hostile XML sent raw to both SOAP endpoints (TST-01, XML-02, XML-05, XML-06, XML-08): each is
refused with a ``soap:Client`` fault, nothing is stored, no file is read and no connection made."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from hostile_xml import corpus
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
