import pytest

from ctm_plugin.adapters.mimosa.errors import HostFault, HostProtocolError, HostUnavailable
from ctm_plugin.adapters.mimosa.reply import response_element
from ctm_plugin.adapters.mimosa.testing import envelope
from ctm_plugin.adapters.mimosa.transport import Reply

CANCELLED = envelope("<h:CancelMovementResponse><h:Status>CANCELLED</h:Status></h:CancelMovementResponse>")
CANARY = "CANARY-7f3a"


def fault(code: str, *fields: str, faultcode: str = "soap:Client") -> bytes:
    extra = "".join(f"<h:Field>{name}</h:Field>" for name in fields)
    return envelope(
        f"<soap:Fault><faultcode>{faultcode}</faultcode><faultstring>x</faultstring><detail>"
        f"<h:HostFault><h:Code>{code}</h:Code><h:Message>Sok Dara: {CANARY}</h:Message>{extra}</h:HostFault>"
        "</detail></soap:Fault>"
    )


def test_a_response_element_is_returned_as_the_host_wrote_it() -> None:
    element = response_element(Reply(200, CANCELLED), "CancelMovement")
    assert element.tag == "{urn:mimosa:host:v1}CancelMovementResponse"
    assert element.findtext("{urn:mimosa:host:v1}Status") == "CANCELLED"


def test_a_host_fault_keeps_code_fields_status_and_message_out_of_its_text() -> None:
    with pytest.raises(HostFault) as caught:
        response_element(Reply(500, fault("VALIDATION", "FamilyName", "BirthDate")), "CancelMovement")
    exc = caught.value
    assert (exc.code, exc.fields, exc.http_status) == ("VALIDATION", ("FamilyName", "BirthDate"), 500)
    assert not exc.retryable
    assert exc.message == f"Sok Dara: {CANARY}"
    assert str(exc) == "VALIDATION (FamilyName, BirthDate)"


def test_unavailable_is_the_only_retryable_fault() -> None:
    with pytest.raises(HostFault) as caught:
        response_element(Reply(503, fault("UNAVAILABLE", faultcode="soap:Server")), "CancelMovement")
    assert caught.value.retryable and caught.value.http_status == 503


@pytest.mark.parametrize(
    ("status", "body", "ambiguous"),
    [
        (503, b"<!DOCTYPE html><html><body>Down for maintenance</body></html>", False),
        (502, b"<html><body>Bad gateway</body></html>", True),
        (504, b"", True),
        (500, envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring/></soap:Fault>"), True),
        (500, fault("NO_CODE_HERE").replace(b"<h:Code>NO_CODE_HERE</h:Code>", b""), True),
    ],
)
def test_a_5xx_without_a_host_fault_is_unavailable(status: int, body: bytes, ambiguous: bool) -> None:
    with pytest.raises(HostUnavailable) as caught:
        response_element(Reply(status, body), "CancelMovement")
    assert caught.value.code == f"HTTP_{status}" and caught.value.ambiguous is ambiguous and caught.value.retryable


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "CANARY-7f3a">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol3;</soap:Body></soap:Envelope>'
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/CANARY-7f3a.dtd"><r/>',
        b"CANARY-7f3a is not XML",
        b"<r>CANARY-7f3a</r>",  # XML, not an envelope
        envelope("<h:GetMovementResponse/>"),  # the wrong operation's answer
        CANCELLED.replace(b"</soap:Body>", b"<h:More/></soap:Body>"),  # two body elements
        envelope("<soap:Fault><faultcode>soap:Client</faultcode><faultstring>CANARY-7f3a</faultstring></soap:Fault>"),
    ],
)
def test_anything_else_in_a_200_is_a_protocol_error_that_quotes_nothing(body: bytes) -> None:
    with pytest.raises(HostProtocolError) as caught:
        response_element(Reply(200, body), "CancelMovement")
    assert not caught.value.retryable
    assert CANARY not in repr(caught.value) and caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_a_4xx_is_a_protocol_error() -> None:
    with pytest.raises(HostProtocolError):
        response_element(Reply(404, b"<html>not here</html>"), "CancelMovement")


def test_comments_around_the_response_are_ignored() -> None:
    body = CANCELLED.replace(b"<soap:Body>", b"<soap:Body><!-- proxy was here -->")
    assert response_element(Reply(200, body), "CancelMovement").findtext("{urn:mimosa:host:v1}Status") == "CANCELLED"


def test_an_answer_is_not_refused_for_what_the_operation_does_not_need() -> None:
    """An element the schema does not list is the client's to ignore (it reads what it needs)."""
    body = envelope("<h:CancelMovementResponse><h:Status>CANCELLED</h:Status><h:Extra/></h:CancelMovementResponse>")
    assert response_element(Reply(200, body), "CancelMovement").findtext("{urn:mimosa:host:v1}Status") == "CANCELLED"
