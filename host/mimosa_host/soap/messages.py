"""Reading and writing the contract's elements: names in the target namespace, and the XSD's
date, dateTime and boolean lexical forms.

The request was validated against the XSD first, so an element the schema requires is there;
a value the XSD accepts but Python cannot hold (a year 0, a leap second) is a ``VALIDATION``
fault naming its element.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from lxml import etree
from lxml.builder import ElementMaker

from .envelope import NS, Fault

E = ElementMaker(namespace=NS, nsmap={None: NS})
_ZONE = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def find(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(q(name))


def text(element: etree._Element, name: str) -> str | None:
    found = element.find(q(name))
    return None if found is None else (found.text or "")


def required(element: etree._Element, name: str) -> etree._Element:
    """A child the XSD requires: the request was validated first, so it is there."""
    found = element.find(q(name))
    assert found is not None, name
    return found


def required_text(element: etree._Element, name: str) -> str:
    """The text of a child the XSD requires (see :func:`required`)."""
    return required(element, name).text or ""


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if element is None else element.findall(q(name))


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(_ZONE.sub("", value.strip()))
    except ValueError:
        raise Fault("VALIDATION", "Date out of range", [field]) from None


def parse_datetime(value: str, field: str) -> datetime:
    """An aware UTC datetime; without a zone, the value is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Fault("VALIDATION", "Date and time out of range", [field]) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_bool(value: str) -> bool:
    return value.strip() in ("true", "1")


def fmt_datetime(value: datetime) -> str:
    """UTC with a ``Z``; SQLite hands stored times back naive, and they are UTC."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def optional(name: str, value: str | None) -> list[etree._Element]:
    """``[<name>value</name>]``, or nothing for None: to splice into a parent's children."""
    return [] if value is None else [getattr(E, name)(value)]


def serialise(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8")
