"""Any value in any element of any SOAP operation of the reference host, and of the CTM's partner service, sent
raw over HTTP: the answer is the operation's result or a fault the caller can act on, never ``SERVER_ERROR``; a
fault leaves every record as it was (but the nonce, committed on purpose before the operation, and the partner
service's refusal of an authenticated partner, kept as its exchange)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from property_helpers import EXAMPLES, hostile_text, snapshot

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:mimosa:host:v1"
PLACEHOLDER = "HOSTILE-VALUE-HERE"

PERSON = {
    "MissionCode": "THA",
    "Name": {"FamilyName": "Roe", "GivenName": "Jane", "MiddleName": "Ann"},
    "Sex": "F",
    "BirthDate": {"_value_1": "1990-04-02", "estimated": False},
    "Nationality": "THA",
    "Documents": {"Document": [{"type": "PASSPORT", "number": "P123", "issuingCountry": "THA"}]},
    "Languages": {"Language": ["tha"]},
    "Vulnerabilities": {"Code": []},
}
MOVEMENT = {
    "MissionCode": "THA",
    "ProjectCode": "PRJ-THA-AVRR",
    "MovementType": "AVRR",
    "Beneficiaries": {"BeneficiaryId": ["BEN-1000010"]},
    "Origin": {"country": "THA", "location": "BKK"},
    "Destination": {"country": "MMR", "location": "RGN"},
    "EarliestDeparture": "2027-01-15",
    "Escort": {"type": "NONE"},
    "FitToTravel": True,
}
OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "BeneficiaryService": {
        "GetBeneficiary": {"BeneficiaryId": "BEN-1000001"},
        "FindBeneficiaries": {
            "MissionCode": "THA",
            "FamilyName": "K",
            "BirthDate": "1990-01-01",
            "DocumentNumber": "P1",
            "ModifiedSince": "2020-01-01T00:00:00Z",
            "Page": 1,
            "PageSize": 10,
        },
        "SaveBeneficiary": {"Beneficiary": PERSON, "ClientReference": "prop-save"},
    },
    "MovementService": {
        "BookMovement": {"MovementRequest": MOVEMENT, "ClientReference": "prop-book"},
        "GetMovement": {"MovementId": "MOV-1000001"},
        "FindMovementByReference": {"ClientReference": "prop-book"},
        "CancelMovement": {"MovementId": "MOV-1000002", "Reason": "OTHER"},
        "GetMovementChanges": {"MaxChanges": 10},
    },
}


def _body_parts(root: etree._Element) -> list[etree._Element]:
    body = root.find(f"{{{SOAP_ENV}}}Body")
    return [element for element in body.iter() if isinstance(element.tag, str)][1:]


def mutated(message: bytes, data: st.DataObject) -> bytes:
    """The request with one element of its Body changed: its text or an attribute set to anything
    (as raw bytes: characters XML refuses included), the element dropped, or repeated."""
    root = etree.fromstring(message)
    parts = _body_parts(root)
    element = data.draw(st.sampled_from(parts), label="element")
    how = data.draw(st.sampled_from(["text", "attribute", "drop", "repeat"]), label="how")
    if how == "drop" and element.getparent() is not None:
        element.getparent().remove(element)
    elif how == "repeat" and element.getparent() is not None:
        element.addnext(etree.fromstring(etree.tostring(element)))
    elif how == "attribute" and element.attrib:
        name = data.draw(st.sampled_from(sorted(element.attrib)), label="attribute")
        element.set(name, PLACEHOLDER)
    else:
        element.text = PLACEHOLDER
        for child in list(element):
            element.remove(child)
    value = data.draw(hostile_text(), label="value")
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return etree.tostring(root).replace(PLACEHOLDER.encode(), escaped.encode("utf-8", "surrogatepass"))


def host_code(answer: bytes) -> str | None:
    """The HostFault Code of a fault answer, or None for a result."""
    root = etree.fromstring(answer)
    return root.findtext(f".//{{{NS}}}HostFault/{{{NS}}}Code")


@pytest.mark.parametrize("service", list(OPERATIONS))
def test_any_value_in_any_element_is_answered_and_a_fault_saves_nothing(live_host, soap_client, service: str) -> None:  # noqa: ANN001
    client = soap_client(service)
    url = live_host.soap_url(service)
    engine = live_host.rt.engine

    @EXAMPLES
    @given(operation=st.sampled_from(sorted(OPERATIONS[service])), data=st.data())
    def send_anything(operation: str, data: st.DataObject) -> None:
        message = mutated(client.message(operation, **OPERATIONS[service][operation]), data)
        before = snapshot(engine)
        response = requests.post(
            url,
            data=message,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/{operation}"'},
            timeout=30,
        )
        assert response.status_code in (200, 400, 413, 500), response.status_code
        code = host_code(response.content)
        assert code != "SERVER_ERROR", (operation, message[-600:])
        if response.status_code != 200:
            assert code is not None, response.content[:300]  # every refusal is a SOAP fault
            assert snapshot(engine) == before, (operation, code)

    send_anything()


PARTNER_NS = "urn:ctm:partners:v1"
FIELDS = {"Field": [{"Name": "referral.needs", "Value": "shelter"}, {"Name": "person.birth_date", "Value": "2009"}]}
PARTNER_OPERATIONS: dict[str, dict[str, Any]] = {
    "SubmitReferral": {"PartnerReference": "prop-ref", "Purpose": "ReferralAssistance", "Fields": FIELDS},
    "GetReferralStatus": {"PartnerReference": "prop-ref"},
    "SubmitFollowUp": {"ReferralReference": "prop-ref", "FollowUpReference": "prop-fu", "Fields": FIELDS},
}


def test_any_value_sent_to_the_partner_service_is_answered_and_a_fault_saves_nothing_but_its_exchange(  # noqa: ANN001
    live_host, partner_client, monkeypatch
) -> None:
    import sqlalchemy as sa
    from partner_rows import BIRTH, NEEDS, approve, partner

    from ctm_plugin.adapters import partner_service
    from ctm_plugin.domain.partners import PartnerExchange

    monkeypatch.setenv(partner_service.RATE_LIMIT_ENV, "100000")  # every example, however many are drawn
    ngo = partner(live_host.rt, agreed=False)
    approve(live_host.rt, ngo.id, fields_ReferralAssistance=[NEEDS, BIRTH], fields_FollowUp=[NEEDS, BIRTH])
    service = partner_client(ngo.username, ngo.secret)
    service.SubmitReferral(**PARTNER_OPERATIONS["SubmitReferral"])  # the referral the other two name
    engine = live_host.rt.engine
    recorded = frozenset({"partner.exchange"})

    def outcomes() -> list[str]:
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(PartnerExchange.outcome).order_by(PartnerExchange.id)))

    @EXAMPLES
    @given(operation=st.sampled_from(sorted(PARTNER_OPERATIONS)), data=st.data())
    def send_anything(operation: str, data: st.DataObject) -> None:
        rendered = service.client.create_message(service, operation, **PARTNER_OPERATIONS[operation])
        message = mutated(etree.tostring(rendered), data)
        before, exchanged = snapshot(engine, frozenset({PartnerExchange.__tablename__}), recorded), outcomes()
        response = requests.post(
            service.url,
            data=message,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{PARTNER_NS}/{operation}"'},
            timeout=30,
        )
        assert response.status_code in (200, 400, 413, 500), response.status_code
        code = etree.fromstring(response.content).findtext(f".//{{{PARTNER_NS}}}PartnerFault/{{{PARTNER_NS}}}Code")
        assert code != "SERVER_ERROR", (operation, message[-600:])
        if response.status_code != 200:
            assert code is not None, response.content[:300]  # every refusal is a SOAP fault
            after = snapshot(engine, frozenset({PartnerExchange.__tablename__}), recorded)
            assert after == before, (operation, code)
            assert outcomes() in (exchanged, [*exchanged, code])  # at most the refusal, on the partner's page

    send_anything()
