import base64
import hashlib
import logging
import socket
import threading
from datetime import datetime, timedelta

import pytest
from lxml import etree
from zeep.exceptions import ExternalReferenceForbidden

from ctm_plugin.adapters.mimosa import services
from ctm_plugin.adapters.mimosa.call import Connection
from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.adapters.mimosa.testing import answer, envelope, loopback
from ctm_plugin.security import xml

NS = {
    "h": "urn:mimosa:host:v1",
    "soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
SAVED = envelope(
    "<h:SaveBeneficiaryResponse><h:BeneficiaryId>BEN-0000001</h:BeneficiaryId>"
    "<h:RecordVersion>3</h:RecordVersion></h:SaveBeneficiaryResponse>"
)
# What zeep would not give back as it was: an empty Languages, estimated="1", spaces, a comment.
BENEFICIARY = b"""<Beneficiary xmlns="urn:mimosa:host:v1"><MissionCode>THA</MissionCode>
  <Name><FamilyName>  Sok </FamilyName><GivenName>Dara</GivenName></Name><Sex>F</Sex>
  <BirthDate estimated="1">2001-02-03</BirthDate><Documents/><Languages/><!-- kept -->
  <Vulnerabilities><Code>VOT</Code></Vulnerabilities></Beneficiary>"""


def request_of(raw: bytes) -> etree._Element:
    return xml.parse(raw.partition(b"\r\n\r\n")[2])


def content(element: etree._Element) -> tuple:
    """Everything in an element but namespace prefixes (zeep's envelope has its own)."""
    return (element.tag, dict(element.attrib), element.text, element.tail, [content(child) for child in element])


def test_building_the_clients_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access while building a client")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for service in services.BINDINGS:
        documents = services.vendored_documents()
        wsdl = next(location for location in documents if location.endswith(f"{service}.wsdl"))
        client = services.build_client(wsdl, documents)
        assert services.BINDINGS[service] in client.wsdl.bindings


def test_the_process_keeps_one_client_per_service() -> None:
    clients = []
    threads = [threading.Thread(target=lambda: clients.append(services.client("MovementService"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1
    assert services.client("BeneficiaryService") is not clients[0]


@pytest.mark.parametrize("location", ["http://127.0.0.1:{port}/x.xsd", "/etc/passwd", "../../secret.xsd"])
def test_a_wsdl_importing_anything_but_the_vendored_files_is_refused(location: str) -> None:
    with loopback(answer(200, b"<x/>")) as server:
        documents = services.vendored_documents()
        wsdl = next(name for name in documents if name.endswith("BeneficiaryService.wsdl"))
        documents[wsdl] = documents[wsdl].replace(
            b'schemaLocation="mimosa.xsd"', f'schemaLocation="{location.format(port=server.port)}"'.encode()
        )
        with pytest.raises(ExternalReferenceForbidden):
            services.build_client(wsdl, documents)
    assert server.connections == 0


def test_the_record_goes_out_exactly_as_given_with_a_digest_token_and_a_timestamp() -> None:
    record = xml.parse(BENEFICIARY)
    with loopback(answer(200, SAVED)) as server:
        connection = Connection(server.base_url, "ctm-tha", "s3cret-pass")
        saved = HostClient(connection).save_beneficiary(record, "ref-1")
    assert (saved.beneficiary_id, saved.record_version) == ("BEN-0000001", 3)
    request = request_of(server.requests[0])
    operation = request.find("soap:Body/h:SaveBeneficiary", NS)
    assert [etree.QName(child).localname for child in operation] == ["Beneficiary", "ClientReference"]
    assert content(operation[0]) == content(record)
    assert operation.findtext("h:ClientReference", namespaces=NS) == "ref-1"

    security = request.find("soap:Header/wsse:Security", NS)
    token, timestamp = security.find("wsse:UsernameToken", NS), security.find("wsu:Timestamp", NS)
    assert token.findtext("wsse:Username", namespaces=NS) == "ctm-tha"
    password = token.find("wsse:Password", NS)
    assert password.get("Type").endswith("#PasswordDigest")
    nonce = base64.b64decode(token.findtext("wsse:Nonce", namespaces=NS))
    created = token.findtext("wsu:Created", namespaces=NS)
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + b"s3cret-pass").digest()).decode()
    assert password.text == digest and len(nonce) == 16
    assert b"s3cret-pass" not in server.requests[0]
    start, end = (datetime.fromisoformat(timestamp.findtext(f"wsu:{n}", namespaces=NS)) for n in ("Created", "Expires"))
    assert start.tzinfo is not None and end - start == timedelta(minutes=5)


def test_each_call_signs_in_as_its_own_mission_even_when_threads_share_the_clients() -> None:
    with loopback(answer(200, SAVED)) as server:

        def save(username: str) -> None:
            connection = Connection(server.base_url, username, f"{username}-password")
            for _ in range(5):
                HostClient(connection).save_beneficiary(xml.parse(BENEFICIARY), f"ref-{username}")

        threads = [threading.Thread(target=save, args=(f"ctm-{code}",)) for code in ("tha", "khm", "mda")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 15
    for raw in server.requests:
        request = request_of(raw)
        username = request.findtext(".//wsse:Username", namespaces=NS)
        assert request.findtext(".//h:ClientReference", namespaces=NS) == f"ref-{username}"


def test_the_zeep_transport_logger_stays_quiet_even_when_set_to_debug(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("zeep.transports")
    assert logger.level == logging.WARNING
    level = logger.level
    try:
        logger.setLevel(logging.DEBUG)
        with caplog.at_level(logging.DEBUG):
            logger.debug("HTTP Post to %s:\n%s", "x", "<envelope/>")
            logger.warning("kept")
    finally:
        logger.setLevel(level)
    assert [record.getMessage() for record in caplog.records] == ["kept"]
