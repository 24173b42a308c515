"""The hostile-XML corpus every SOAP endpoint is tried with (TST-01, XML-02, XML-05, XML-06, XML-08): the host's
services (tests/host/test_soap_hostile.py) and the CTM's partner service (tests/plugin/test_partner_service.py)."""

from __future__ import annotations

import gzip
from collections.abc import Callable

ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:mimosa:host:v1">'
    b"<soap:Body>%s</soap:Body></soap:Envelope>"
)


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
