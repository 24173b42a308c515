"""The plugin's one XML parse path (security.md XML-01, XML-02, XML-05, XML-06, XML-08).

Every byte of XML the CTM receives goes through :func:`parse`. What could make a parser
reach outside the document or blow up (a DOCTYPE, an entity declaration, an encoding the
byte scan cannot read, too many bytes) is refused before the parser sees anything; the
parser is hardened anyway, and what it keeps (entity references, XInclude elements, a
DOCTYPE) is refused afterwards, so that relaxing one layer does not open the door.

Only UTF-8 (and its subset ASCII) is accepted: the host speaks UTF-8, and a scan for
``<!DOCTYPE`` over UTF-16 or EBCDIC bytes would see nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ctm_plugin.i18n import N_, TranslatedError

MAX_BYTES = 2 * 1024 * 1024

PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_pis=True,
    encoding="utf-8",  # overrides the document's own declaration and libxml2's guessing
)

_DECLARATIONS = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_UTF8 = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_FOREIGN_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")
_XINCLUDE = {"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"}

TOO_LARGE = N_("The XML is larger than the %(limit)s bytes allowed.")
NOT_UTF8 = N_("The XML must be encoded in UTF-8.")
DECLARATIONS = N_("The XML carries a DOCTYPE or an entity declaration, which are not accepted.")
ENTITY = N_("The XML carries an entity reference, which is not accepted.")
XINCLUDE = N_("The XML carries an XInclude element, which is not accepted.")
NOT_WELL_FORMED = N_("The XML is not well-formed (line %(line)s).")


class HostileXML(TranslatedError):
    """XML refused before use; ``msgid`` and ``params`` give the reader's message through ``_``."""


class BadXML(HostileXML):
    """Not well-formed (which includes too deep and too long): refused the same way."""


def parse(data: bytes, *, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The root element of ``data``, or :class:`HostileXML` (:class:`BadXML` when malformed)."""
    _refuse_before_parsing(data, max_bytes)
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as error:
        raise BadXML(NOT_WELL_FORMED, line=error.lineno) from error
    _refuse_leftovers(root)
    return root


def _refuse_before_parsing(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise HostileXML(TOO_LARGE, limit=max_bytes)
    if data.startswith(_FOREIGN_BOMS) or b"\x00" in data:
        raise HostileXML(NOT_UTF8)
    declared = _ENCODING.match(data)
    if declared and declared.group(1).lower() not in _UTF8:
        raise HostileXML(NOT_UTF8)
    if _DECLARATIONS.search(data):
        raise HostileXML(DECLARATIONS)


def _refuse_leftovers(root: etree._Element) -> None:
    if root.getroottree().docinfo.doctype:
        raise HostileXML(DECLARATIONS)
    # libxml2 filters by node type and namespace in C: no Python call per element.
    if next(root.iter(etree.Entity), None) is not None:
        raise HostileXML(ENTITY)
    if next(root.iter(*(f"{{{namespace}}}*" for namespace in _XINCLUDE)), None) is not None:
        raise HostileXML(XINCLUDE)


def parse_file(path: Path) -> etree._ElementTree:
    """One of the CTM's own files (the partner service's XSD), with the same hardened parser."""
    return etree.parse(str(path), PARSER)
