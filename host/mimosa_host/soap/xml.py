"""The host's one XML parser: every byte of XML the host reads goes through here.

The parser resolves no entity, loads no DTD, touches no network and keeps libxml2's
limits (``huge_tree`` off: depth 256, text nodes 10 MB). On top of it, a document carrying
a DOCTYPE, an entity declaration or an entity reference is refused outright (XML-02,
XML-08): SOAP has no use for any of them. Nothing here processes XInclude, XSLT or
``xsi:schemaLocation``.

The DOCTYPE is refused by its bytes, before parsing: parser options are easy to get subtly
wrong (with ``collect_ids=False`` added, libxml2 opens the file a ``<!DOCTYPE e SYSTEM
"file://...">`` names, ``load_dtd=False`` notwithstanding; seen with lxml 6.1.3). The parser
reads every document as UTF-8, whatever it declares, so that the bytes checked are the
characters parsed: a DOCTYPE in UTF-16 cannot slip past the check.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    encoding="utf-8",
)


class XmlRefused(Exception):
    """The document is refused; the message says why, without quoting it."""


def refuse_declarations(data: bytes) -> None:
    """Refuse a DOCTYPE or an entity declaration by its bytes, before any parser sees them."""
    if b"<!DOCTYPE" in data:
        raise XmlRefused("DOCTYPE not allowed")
    if b"<!ENTITY" in data:
        raise XmlRefused("Entity declarations not allowed")


def parse(data: bytes) -> etree._Element:
    """The root of ``data``, or :class:`XmlRefused`; the parsed document is checked again."""
    refuse_declarations(data)
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        raise XmlRefused("The request is not well-formed XML") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRefused("DOCTYPE not allowed")
    if next(root.iter(etree.Entity), None) is not None:
        raise XmlRefused("Entity references not allowed")
    return root


def parse_file(path: Path) -> etree._ElementTree:
    """One of the host's own files (its XSD), with the same parser."""
    return etree.parse(str(path), PARSER)
