"""SOAP 1.1 envelopes: taking a request apart, wrapping an answer, and faults.

A fault's ``detail`` holds one ``HostFault`` (``Code``, ``Message``, ``Field``*). Every code is
a ``soap:Client`` fault but ``UNAVAILABLE`` (HTTP 503, the one worth retrying) and
``SERVER_ERROR`` (an unexpected failure, answered with a generic message).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:mimosa:host:v1"
SERVER_CODES = {"UNAVAILABLE": 503, "SERVER_ERROR": 500}


class Fault(Exception):
    """A fault to answer with; ``message`` goes to the caller, so it never quotes the request."""

    def __init__(self, code: str, message: str, fields: Iterable[str] = (), http_status: int | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.side = "Server" if code in SERVER_CODES else "Client"
        # SOAP 1.1 answers a fault with HTTP 500; refusals before parsing say 400 or 413.
        self.http_status = http_status or SERVER_CODES.get(code, 500)


def split(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """(the Header or None, the one request element in the Body) of a SOAP 1.1 envelope."""
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise Fault("VALIDATION", "Not a SOAP 1.1 envelope", ["Envelope"])
    parts = [child.tag for child in root]
    if parts not in ([f"{{{SOAP_ENV}}}Body"], [f"{{{SOAP_ENV}}}Header", f"{{{SOAP_ENV}}}Body"]):
        raise Fault("VALIDATION", "The envelope must hold an optional Header and a Body", ["Body"])
    body = root[-1]
    if len(body) != 1 or (body.text or "").strip() or (body[0].tail or "").strip():
        raise Fault("VALIDATION", "The Body must hold exactly one request element", ["Body"])
    return (root[0] if len(root) == 2 else None), body[0]


def wrap(body: bytes) -> bytes:
    """An envelope around an answer element already serialised."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<soap:Envelope xmlns:soap="' + SOAP_ENV.encode() + b'"><soap:Body>' + body + b"</soap:Body></soap:Envelope>"
    )


def fault_envelope(fault: Fault) -> bytes:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    etree.SubElement(element, "faultcode").text = f"soap:{fault.side}"
    etree.SubElement(element, "faultstring").text = fault.message
    detail = etree.SubElement(etree.SubElement(element, "detail"), f"{{{NS}}}HostFault", nsmap={None: NS})
    etree.SubElement(detail, f"{{{NS}}}Code").text = fault.code
    etree.SubElement(detail, f"{{{NS}}}Message").text = fault.message
    for field in fault.fields:
        etree.SubElement(detail, f"{{{NS}}}Field").text = field
    return wrap(etree.tostring(element))
