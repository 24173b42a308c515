"""The contract's files (``wsdl/``): served as they are, and the XSD every request is checked against."""

from __future__ import annotations

import functools
import html
import re
import threading
from pathlib import Path

from lxml import etree

from . import xml
from .envelope import Fault

WSDL_DIR = Path(__file__).parent / "wsdl"
XSD_NAME = "mimosa.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_MISSING = re.compile(
    r"Missing child element\(s\)\. Expected is (?:one of )?\( ([^)]*) \)"
    # A required element left out before others: libxml2 says the next one is not expected, and
    # names the one element it expected there (the missing one).
    r"|This element is not expected\. Expected is \( ([^),]*) \)"
)


@functools.cache
def xsd_bytes() -> bytes:
    return (WSDL_DIR / XSD_NAME).read_bytes()


@functools.cache
def _wsdl_template(service: str) -> tuple[bytes, bytes]:
    """The WSDL file split around its placeholder address."""
    data = (WSDL_DIR / f"{service}.wsdl").read_bytes()
    placeholder = f'location="http://localhost/soap/{service}"'.encode()
    assert data.count(placeholder) == 1, f"{service}.wsdl must hold its placeholder address once"
    before, after = data.split(placeholder)
    return before, after


def wsdl_bytes(service: str, url: str) -> bytes:
    """The service's WSDL file, byte for byte, but for its ``soap:address`` set to ``url``."""
    before, after = _wsdl_template(service)
    return before + f'location="{html.escape(url, quote=True)}"'.encode() + after


_lock = threading.Lock()
_compiled: etree.XMLSchema | None = None


def compiled_schema() -> etree.XMLSchema:
    """The process's validator, compiled once (``mimosa-host serve`` compiles it before its workers fork).

    Compiling the XSD is the costly part, validating a request's Body is not: one validator serves every
    thread, each validation under :data:`_lock`, since a validator's error log is its own and is read after.
    """
    with _lock:
        return _compiled_under_lock()


def _compiled_under_lock() -> etree.XMLSchema:
    global _compiled  # noqa: PLW0603 - the process's one compiled validator
    if _compiled is None:
        _compiled = etree.XMLSchema(xml.parse_file(WSDL_DIR / XSD_NAME))
    return _compiled


def validate(request: etree._Element) -> None:
    """Check a Body's request element against the XSD; a ``VALIDATION`` fault names what is wrong.

    ``xsi:`` attributes are refused first: the host's schema alone decides what is valid
    (no ``xsi:schemaLocation`` to fetch, no ``xsi:type`` to swap a type).
    """
    for node in request.iter():
        if any(etree.QName(name).namespace == XSI for name in node.attrib):
            raise Fault("VALIDATION", "xsi attributes are not allowed", [etree.QName(node).localname])
    with _lock:  # one lock taken once: the compile (the first time) and the validation
        schema = _compiled_under_lock()
        if schema.validate(request):
            return
        fields = _fields(schema.error_log)
    raise Fault("VALIDATION", "The request does not match the schema", fields)


def _fields(errors: etree._ListErrorLog) -> list[str]:
    """The local names of the offending elements: a missing child names the child expected."""
    fields: dict[str, None] = {}
    for error in errors:
        missing = _MISSING.search(error.message)
        if missing:
            listed = missing.group(1) or missing.group(2)
            names = [etree.QName(name.strip()).localname for name in listed.split(",")]
        else:
            found = _ELEMENT.search(error.message)
            names = [found.group(1)] if found else []
        fields.update(dict.fromkeys(names))
    return list(fields)
