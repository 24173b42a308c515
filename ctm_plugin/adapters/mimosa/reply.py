"""From the host's HTTP answer to the operation's response element, or the failure it means.

Every byte received goes through ``ctm_plugin.security.xml.parse``: zeep never deserialises
an answer. The response element is not checked against the whole schema: the client reads
from it what the operation needs and refuses the answer only when that is missing or
unreadable (a host may leave out optional elements or add its own, HOST_CONTRACT.md).

- a ``soap:Fault`` whose detail is a ``HostFault`` → ``HostFault``, whatever the HTTP status;
- otherwise a 5xx → ``HostUnavailable`` whatever the body holds (hostile or an HTML error page:
  it is refused by the parser and never looked at again); ambiguous unless 503, by which the
  host or a proxy in front of it says it turned the request away;
- otherwise anything but a 200 holding the operation's response element → ``HostProtocolError``.
"""

from __future__ import annotations

from lxml import etree

from ctm_plugin.mappings.records import NS as HOST_NS
from ctm_plugin.security import xml

from .errors import HostFault, HostProtocolError, HostUnavailable
from .transport import MAX_REPLY_BYTES, Reply

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_FAULT = f"{{{SOAP_ENV}}}Fault"


def response_element(reply: Reply, operation: str) -> etree._Element:
    """The ``<operation>Response`` element of a successful reply."""
    payload = _payload(reply)
    if payload is not None and payload.tag == _FAULT:
        _raise_host_fault(payload, reply.status)
    if reply.status >= 500:
        raise HostUnavailable(f"HTTP_{reply.status}", ambiguous=reply.status != 503)
    if reply.status != 200 or payload is None:
        raise HostProtocolError(f"not a SOAP reply (HTTP {reply.status})")
    if payload.tag != f"{{{HOST_NS}}}{operation}Response":
        raise HostProtocolError(f"not a {operation}Response")
    return payload


def _payload(reply: Reply) -> etree._Element | None:
    """The one element in the envelope's body, if the reply is an envelope with one."""
    try:
        envelope = xml.parse(reply.body, max_bytes=MAX_REPLY_BYTES)
    except xml.HostileXML as exc:
        if reply.status >= 500:
            return None
        raise HostProtocolError(f"XML refused: {exc}") from None
    body = envelope.find(f"{{{SOAP_ENV}}}Body") if envelope.tag == f"{{{SOAP_ENV}}}Envelope" else None
    children = [] if body is None else list(body.iterchildren(etree.Element))
    return children[0] if len(children) == 1 else None


def _raise_host_fault(fault: etree._Element, status: int) -> None:
    detail = fault.find(f"detail/{{{HOST_NS}}}HostFault")
    code = None if detail is None else detail.findtext(f"{{{HOST_NS}}}Code")
    if detail is not None and code:
        fields = tuple(field.text or "" for field in detail.iterfind(f"{{{HOST_NS}}}Field"))
        raise HostFault(code, detail.findtext(f"{{{HOST_NS}}}Message") or "", fields, status)
