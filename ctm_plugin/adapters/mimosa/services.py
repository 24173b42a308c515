"""One zeep ``Client`` per host service per process, built from the vendored WSDL/XSD.

zeep builds the requests (from keyword arguments, by the XSD) and sends them through
``HostTransport``; it never reads an answer (``raw_response``): ``reply`` does. Building a
client reads the vendored files only: ``forbid_external`` refuses http(s) imports, and the
transport serves nothing but the three files it was given.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import threading
from collections.abc import Mapping
from importlib.resources import files

import zeep
import zeep.proxy
from lxml import etree
from zeep.plugins import Plugin

from .call import Call, Connection, calling, current
from .reply import HOST_NS, SOAP_ENV, response_element
from .transport import HostTransport
from .wsse import CallSecurity

BINDINGS = {
    "BeneficiaryService": f"{{{HOST_NS}}}BeneficiaryServiceBinding",
    "MovementService": f"{{{HOST_NS}}}MovementServiceBinding",
}
VENDORED = ("BeneficiaryService.wsdl", "MovementService.wsdl", "mimosa.xsd")
_WSDL = files(__package__).joinpath("wsdl")
_WSDL_DIR = os.path.realpath(str(_WSDL))  # zeep resolves relative imports with realpath


class _WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


# zeep.transports logs whole envelopes (credentials, names) at DEBUG. Our transport does not
# log, but pin the logger anyway: a level set elsewhere cannot get past the filter.
_transport_log = logging.getLogger("zeep.transports")
_transport_log.setLevel(logging.WARNING)
_transport_log.addFilter(_WarningsOnly())


class _Verbatim(Plugin):
    """Puts the call's record into the request exactly as the mapping built it.

    zeep would re-render it from its own reading and lose what it does not keep (an empty
    ``Languages``, ``estimated="1"``); the request is built with the record skipped
    (``xsd.SkipValue``) and the record is copied in here, first in the operation element.
    """

    def egress(self, envelope, http_headers, operation, binding_options):  # noqa: ANN001, ANN201
        payload = current().payload
        if payload is not None:
            record = copy.deepcopy(payload)
            record.tail = None
            envelope.find(f"{{{SOAP_ENV}}}Body")[0].insert(0, record)
        return envelope, http_headers


def vendored_documents() -> dict[str, bytes]:
    return {os.path.join(_WSDL_DIR, name): _WSDL.joinpath(name).read_bytes() for name in VENDORED}


def build_client(wsdl: str, documents: Mapping[str, bytes]) -> zeep.Client:
    """A client for the WSDL at location ``wsdl``, loading nothing but ``documents``."""
    settings = zeep.Settings(
        strict=True,
        raw_response=True,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    return zeep.Client(
        wsdl, transport=HostTransport(documents), settings=settings, wsse=CallSecurity(), plugins=[_Verbatim()]
    )


_lock = threading.Lock()


@functools.cache
def _client(service: str) -> zeep.Client:
    return build_client(os.path.join(_WSDL_DIR, f"{service}.wsdl"), vendored_documents())


def client(service: str) -> zeep.Client:
    """The process's client for ``service``, built on first use."""
    with _lock:
        return _client(service)


@functools.lru_cache(maxsize=256)
def _proxy(service: str, address: str) -> zeep.proxy.ServiceProxy:
    """The service at ``address``, built once: its calls go through the shared client's keep-alive pool."""
    return client(service).create_service(BINDINGS[service], address)


def invoke(
    connection: Connection, service: str, operation: str, payload: etree._Element | None = None, **params: object
) -> etree._Element:
    """Call ``operation`` on the mission's host; its response element, or a ``HostError``."""
    proxy = _proxy(service, connection.address(service))
    with calling(Call(connection, payload)):
        reply = proxy[operation](**params)
    return response_element(reply, operation)
