"""One XML parse path (security.md XML-01, XML-06): only ``ctm_plugin/security/xml.py`` parses XML.

Every module of the package is read as an AST (tests beside the code, ``*_test.py``, parse
the code's own markup and are left out). Outside the
parse path nothing may call lxml's parsing functions (``etree.fromstring``, ``etree.parse``...)
nor import them by name, nor use another XML parser; nowhere may anything call
``set_default_parser``, ``XSLT(`` or ``.xinclude(``. zeep's loading of the vendored WSDL in
``ctm_plugin/adapters/mimosa/`` is zeep's own and calls none of these. The parse path's
parser must carry the hardened settings.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ctm_plugin

PACKAGE = Path(ctm_plugin.__file__).parent
PARSE_PATH = PACKAGE / "security" / "xml.py"

LXML_PARSING = {
    "fromstring",
    "fromstringlist",
    "parse",
    "XML",
    "XMLID",
    "XMLDTDID",
    "parseid",
    "iterparse",
    "XMLParser",
    "XMLPullParser",
    "ETCompatXMLParser",
    "HTML",
    "HTMLParser",
    "set_default_parser",
}
ANYWHERE = {"set_default_parser", "XSLT", "xinclude"}
LXML_MODULES = {"lxml.etree"}
OTHER_PARSERS = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "lxml.objectify", "lxml.html", "defusedxml")
HARDENED = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_pis": True,
}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _other_parser(module: str) -> bool:
    """Another XML parser; ``xml.sax.saxutils`` only escapes text."""
    return not _within(module, "xml.sax.saxutils") and any(_within(module, other) for other in OTHER_PARSERS)


def offences(source: str, *, parse_path: bool = False) -> list[str]:
    """What in ``source`` parses XML outside the parse path (or, in it, what nobody may call)."""
    tree = ast.parse(source)
    etree_names = set()  # local names bound to lxml.etree
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in LXML_MODULES and alias.asname:
                    etree_names.add(alias.asname)
                if _other_parser(alias.name):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in LXML_MODULES:
                    etree_names.add(alias.asname or alias.name)
                elif node.module in LXML_MODULES and alias.name in LXML_PARSING | ANYWHERE and not parse_path:
                    found.append(f"from {node.module} import {alias.name}")
                if _other_parser(node.module) or _other_parser(full):
                    found.append(f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in ANYWHERE:
            found.append(f"{node.attr}() on line {node.lineno}")
        elif node.attr in LXML_PARSING and not parse_path and _is_etree(node.value, etree_names):
            found.append(f"etree.{node.attr} on line {node.lineno}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ANYWHERE:
            found.append(f"{node.id} on line {node.lineno}")
    return found


def _is_etree(node: ast.expr, etree_names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in etree_names
    return isinstance(node, ast.Attribute) and node.attr == "etree" and isinstance(node.value, ast.Name)


def test_nothing_but_the_parse_path_parses_xml():
    found = {
        str(path.relative_to(PACKAGE)): bad
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.name.endswith("_test.py") and (bad := offences(path.read_text(), parse_path=path == PARSE_PATH))
    }
    assert found == {}


def test_the_checker_sees_every_way_in():
    bad = (
        "from lxml import etree\n"
        "import lxml.etree as ET\n"
        "from lxml.etree import fromstring\n"
        "import xml.etree.ElementTree\n"
        "from xml.dom import minidom\n"
        "etree.fromstring(b'')\n"
        "ET.parse('x')\n"
        "lxml.etree.XML(b'')\n"
        "etree.iterparse('x')\n"
        "etree.XMLParser()\n"
        "etree.set_default_parser(None)\n"
        "etree.XSLT(None)\n"
        "tree.xinclude()\n"
    )
    assert len(offences(bad)) == 11
    assert offences("import ast, urllib.parse\nast.parse('x')\nurllib.parse.urlsplit('x')\n") == []
    assert offences("from xml.sax.saxutils import escape\n") == []


def test_the_parse_path_calls_nothing_that_reaches_outside():
    assert offences(PARSE_PATH.read_text(), parse_path=True) == []


def test_the_one_parser_is_hardened():
    calls = [
        node
        for node in ast.walk(ast.parse(PARSE_PATH.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "XMLParser"
    ]
    assert len(calls) == 1
    settings = {kw.arg: ast.literal_eval(kw.value) for kw in calls[0].keywords}
    assert settings == {**HARDENED, "encoding": "utf-8"}
    assert not calls[0].args
