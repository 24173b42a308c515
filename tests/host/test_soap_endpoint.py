"""The SOAP endpoint as a client finds it: the contract files it serves, the WSDLs zeep loads, how
it answers what is not a proper request, and the host's one XML parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import zeep
from zeep.transports import Transport

import mimosa_host
from mimosa_host.soap import schema

WSDL_DIR = Path(schema.__file__).parent / "wsdl"
OPERATIONS = {
    "BeneficiaryService": ["FindBeneficiaries", "GetBeneficiary", "SaveBeneficiary"],
    "MovementService": [
        "BookMovement",
        "CancelMovement",
        "FindMovementByReference",
        "GetMovement",
        "GetMovementChanges",
    ],
}


@pytest.mark.parametrize("service", list(OPERATIONS))
def test_zeep_loads_each_local_wsdl_strictly(service: str) -> None:
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False)
    client = zeep.Client(str(WSDL_DIR / f"{service}.wsdl"), settings=settings, transport=Transport())
    binding = client.service._binding
    assert sorted(binding._operations) == OPERATIONS[service]
    for name, operation in binding._operations.items():
        assert operation.soapaction == f"urn:mimosa:host:v1/{name}"


def test_the_host_serves_its_contract_files(live_host) -> None:  # noqa: ANN001
    for service in OPERATIONS:
        served = requests.get(live_host.soap_url(service) + "?wsdl", timeout=10)
        assert served.status_code == 200 and served.headers["Content-Type"].startswith("text/xml")
        original = (WSDL_DIR / f"{service}.wsdl").read_bytes()
        placeholder = f'location="http://localhost/soap/{service}"'.encode()
        assert served.content == original.replace(placeholder, f'location="{live_host.soap_url(service)}"'.encode())
        assert "Set-Cookie" not in served.headers
    xsd = requests.get(f"{live_host.base_url}/soap/mimosa.xsd", timeout=10)
    assert xsd.status_code == 200 and xsd.content == (WSDL_DIR / "mimosa.xsd").read_bytes()


def test_what_is_not_a_soap_request(live_host, soap_client, soap_fault) -> None:  # noqa: ANN001
    url = live_host.soap_url("MovementService")
    assert requests.get(f"{live_host.base_url}/soap/Nothing", timeout=10).status_code == 404
    assert requests.get(url, timeout=10).status_code == 405
    assert requests.put(url, data=b"<x/>", timeout=10).status_code == 405

    def post(data: bytes, **headers: str) -> requests.Response:
        return requests.post(url, data=data, headers={"Content-Type": "text/xml", **headers}, timeout=10)

    assert soap_fault(post(b"<x/>").content) == ("soap:Client", "VALIDATION", ["Envelope"])
    wrong_service = soap_client("BeneficiaryService").message("GetBeneficiary", BeneficiaryId="BEN-1000001")
    assert soap_fault(post(wrong_service).content) == ("soap:Client", "VALIDATION", ["GetBeneficiary"])
    message = soap_client("MovementService").message("GetMovement", MovementId="MOV-1000001")
    assert soap_fault(post(message, SOAPAction='"urn:mimosa:host:v1/CancelMovement"').content)[1] == "VALIDATION"
    answer = post(message, SOAPAction='"urn:mimosa:host:v1/GetMovement"')
    assert answer.status_code == 200 and b"GetMovementResponse" in answer.content
    assert "Set-Cookie" not in answer.headers  # no session: the web shell's machinery is not in the way


HOST = Path(mimosa_host.__file__).parent
PARSE_CALL = re.compile(
    r"\b(?:etree|ElementTree|ET|objectify|minidom|pulldom|sax)\."
    r"(?:fromstring|fromstringlist|XML|HTML|parse|iterparse|XMLParser|XMLPullParser|set_default_parser|XSLT)\b"
    r"|\.xinclude\(|^\s*from\s+(?:lxml|xml)\S*\s+import\s+.*\b(?:fromstring|XML|parse|XMLParser)\b",
    re.MULTILINE,
)


def test_one_xml_parser_in_the_host() -> None:
    """XML-01, XML-06: only soap/xml.py builds a parser or parses; nothing runs XSLT or XInclude."""
    offenders = {
        str(path.relative_to(HOST)): found
        for path in sorted(HOST.rglob("*.py"))
        if path != HOST / "soap" / "xml.py" and (found := PARSE_CALL.findall(path.read_text()))
    }
    assert offenders == {}
    source = (HOST / "soap" / "xml.py").read_text()
    assert "set_default_parser" not in source and "huge_tree=True" not in source
    for option in ("resolve_entities=False", "no_network=True", "load_dtd=False", "huge_tree=False"):
        assert option in source


def test_the_checker_sees_a_parse_call() -> None:
    found = PARSE_CALL.findall("root = etree.fromstring(data)\nfrom lxml.etree import XMLParser\ntree.xinclude()\n")
    assert len(found) == 3


def test_the_schema_is_compiled_once_and_each_concurrent_request_gets_its_own_verdict() -> None:
    """Every thread of a worker validates with the process's one compiled XSD, and a request's fault names its
    own wrong fields, never another request's validated at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from lxml import etree

    from mimosa_host.soap.envelope import Fault

    ns = "urn:mimosa:host:v1"

    def request(element: str, child: str) -> etree._Element:
        root = etree.Element(f"{{{ns}}}{element}")
        etree.SubElement(root, f"{{{ns}}}{child}").text = "BEN-1000001"
        return root

    kinds = [("GetBeneficiary", "BeneficiaryId"), ("GetBeneficiary", "MovementId"), ("GetMovement", "BeneficiaryId")]

    def verdict(i: int) -> tuple[object, list[str] | None]:
        try:
            schema.validate(request(*kinds[i % 3]))
        except Fault as fault:
            return schema.compiled_schema(), fault.fields
        return schema.compiled_schema(), None

    alone = [verdict(i)[1] for i in range(3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(verdict, range(300)))

    assert alone == [None, ["BeneficiaryId"], ["MovementId"]]
    assert {id(compiled) for compiled, _fields in verdicts} == {id(schema.compiled_schema())}
    assert [fields for _compiled, fields in verdicts] == alone * 100
