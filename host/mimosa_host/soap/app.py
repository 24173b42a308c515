"""The SOAP endpoint: a WSGI application the web shell mounts at ``/soap``.

- ``POST /soap/BeneficiaryService`` and ``POST /soap/MovementService``: one SOAP 1.1 request;
- ``GET /soap/<Service>?wsdl``: the service's WSDL, with its real address;
- ``GET /soap/mimosa.xsd``: the XSD the WSDLs import.

It runs outside Flask's sessions and CSRF protection (each message authenticates itself) and
sets no cookie. A request goes through, in order: the size, encoding and DTD refusals (HTTP
400 or 413, before any parsing), the hardened parser, the envelope's shape, then one
transaction: WS-Security (its nonce recorded first), the XSD, and the operation in a savepoint
with its idempotency record and change-feed rows. An operation's fault rolls back its savepoint
only: the nonce is committed all the same, and a replay is refused even when the first message
failed. A transaction that loses a race (one ClientReference sent twice at once, SQLite's
writer lock busy) is run again, nonce included, up to three times.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Request, Response

from ..db import transaction
from ..logs import exception_summary
from ..models import utcnow
from . import beneficiaries, envelope, movements, schema, wssecurity, xml
from .call import Call
from .envelope import NS, Fault
from .faults import FaultSwitches

log = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024
ATTEMPTS = 3
Operation = Callable[[Session, Call], bytes]
RETRIED = (sa.exc.IntegrityError, sa.exc.OperationalError)
"""A lost race: the call's transaction is run again, its nonce with it."""
OPERATIONS: dict[str, dict[str, Operation]] = {
    "BeneficiaryService": beneficiaries.OPERATIONS,
    "MovementService": movements.OPERATIONS,
}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _xml(data: bytes, status: int = 200) -> Response:
    return Response(data, status, headers=HEADERS, content_type="text/xml; charset=utf-8")


class SoapApp:
    """The services over one session factory, with the test-only :attr:`faults` switches."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.faults = FaultSwitches()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.route(Request(environ))(environ, start_response)

    def route(self, request: Request) -> Response:
        name = request.path.strip("/")
        if name == schema.XSD_NAME and request.method == "GET":
            return _xml(schema.xsd_bytes())
        if name not in OPERATIONS:
            return Response("Not found\n", 404, headers=HEADERS, content_type="text/plain")
        if request.method == "POST":
            return self.soap(request, name)
        if request.method == "GET" and any(key.lower() == "wsdl" for key in request.args):
            return _xml(schema.wsdl_bytes(name, request.base_url))
        allow = {**HEADERS, "Allow": "GET, POST"}
        return Response("Method not allowed\n", 405, headers=allow, content_type="text/plain")

    def soap(self, request: Request, service: str) -> Response:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        try:
            if self.faults.take("unavailable"):
                raise Fault("UNAVAILABLE", "The service is unavailable; try again later")
            answer = self._process(request, service)
        except Fault as fault:
            return _xml(envelope.fault_envelope(fault), fault.http_status)
        except Exception as exc:  # noqa: BLE001 - answered with a generic fault, logged without its text
            log.error("SOAP %s failed: %s", service, exception_summary(exc))
            generic = Fault("SERVER_ERROR", "The host could not process the request")
            return _xml(envelope.fault_envelope(generic), generic.http_status)
        if self.faults.take("drop_reply"):
            self._drop_connection(request)
        return _xml(envelope.wrap(answer))

    def _process(self, request: Request, service: str) -> bytes:
        header, element = envelope.split(_read(request))
        name = etree.QName(element)
        operation = OPERATIONS[service].get(name.localname) if name.namespace == NS else None
        if operation is None:
            raise Fault("VALIDATION", f"{service} has no such operation", [name.localname])
        action = request.headers.get("SOAPAction", "").strip().strip('"')
        if action and action != f"{NS}/{name.localname}":
            raise Fault("VALIDATION", "The SOAPAction does not match the request element")
        return self._run(operation, header, element, utcnow())

    def _run(
        self, operation: Operation, header: etree._Element | None, element: etree._Element, now: datetime
    ) -> bytes:
        """The call in one transaction, run again after a lost race (see the module's docstring)."""
        for attempt in range(ATTEMPTS):
            try:
                with transaction(self.factory) as s:
                    answer = self._answer(s, operation, header, element, now)
            except RETRIED:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            if isinstance(answer, Exception):
                raise answer  # committed first: its nonce stays spent
            return answer
        raise AssertionError("unreachable")

    def _answer(
        self, s: Session, operation: Operation, header: etree._Element | None, element: etree._Element, now: datetime
    ) -> bytes | Exception:
        """The answer, or the failure to raise once the nonce is committed.

        The nonce goes in first (a replay racing this call waits on its row, then is refused);
        the operation runs in a savepoint, so that failing it undoes its own changes only.
        """
        caller = wssecurity.authenticate(s, header, now)
        try:
            schema.validate(element)
            with s.begin_nested():
                return operation(s, Call(caller, element, now, self.faults))
        except RETRIED:
            raise  # the whole transaction again, nonce included
        except Exception as exc:  # noqa: BLE001 - raised by _run once the nonce is committed
            return exc

    def _drop_connection(self, request: Request) -> None:
        """Lose the reply of a committed request (:attr:`FaultSwitches.drop_reply`)."""
        sock = request.environ.get("werkzeug.socket")
        if sock is None:
            raise RuntimeError("drop_reply needs the werkzeug server, which exposes the connection")
        self.faults.dropped.set()
        time.sleep(self.faults.drop_reply_after)
        sock.shutdown(socket.SHUT_RDWR)


def _read(request: Request) -> etree._Element:
    """The request's parsed body, refused before parsing if encoded, too large or holding a DTD."""
    if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise Fault("VALIDATION", "Content-Encoding not allowed", http_status=400)
    too_large = Fault("VALIDATION", "The request is larger than 2 MB", http_status=413)
    if (request.content_length or 0) > MAX_BODY:
        raise too_large
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise too_large
    try:
        return xml.parse(data)
    except xml.XmlRefused as exc:
        raise Fault("VALIDATION", str(exc), http_status=400) from None
