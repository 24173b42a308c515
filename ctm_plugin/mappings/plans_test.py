"""Compiled plans map exactly as the mapping's XPaths read one by one did, and hostile XML still
never reaches them.

The oracle below is the engine as it was before plans: one XPath evaluation per field per
record (``map_in``) and a search of the XSD's order per element written (``map_out``). It lives
here only, to hold the plans to its results on generated host XML and records.
"""

from __future__ import annotations

import ast
import re
import string
from collections import abc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ctm_plugin.codelists import CodeList
from ctm_plugin.mappings import tools
from ctm_plugin.mappings.converters import ConversionError
from ctm_plugin.mappings.engine import (
    NO_VALUE,
    NOT_A_LIST,
    NOT_AN_ITEM,
    NOT_FOUND,
    FieldError,
    Mapping,
    RecordError,
    default_mappings,
    effective_mappings,
    map_in,
    map_out,
)
from ctm_plugin.mappings.plans import InPlan, _Items
from ctm_plugin.mappings.records import NS, Layout
from ctm_plugin.mappings.schema import NOT_A_CTM_CODE, FieldMapping
from ctm_plugin.security.xml import MAX_BYTES, HostileXML, parse

# -- the oracle: the engine before plans --------------------------------------------------------


def oracle_in(mapping: Mapping, element: etree._Element) -> tuple[dict[str, Any], tuple[FieldError, ...]]:
    errors: list[FieldError] = []
    values = {}
    for field in mapping.fields.values():
        if field.goes_in:
            codelist = mapping.record.slots[field.name].codelist
            values[field.name] = _read(field, element, field.name, codelist, errors)
    return values, tuple(errors)


def _read(field: FieldMapping, node: etree._Element, label: str, codelist: CodeList | None, errors: list) -> Any:
    if field.parts:
        return [
            {part.name: _read(part, item, f"{label}[{n}].{part.name}", None, errors) for part in field.parts}
            for n, item in enumerate(_elements(field, node), 1)
        ]
    xpath, texts = _texts(field, node)
    if not texts and field.cardinality == "required":
        errors.append(FieldError(label, xpath, NOT_FOUND, {}))
    values = []
    for text in texts if field.cardinality == "many" else texts[:1]:
        try:
            value = field.converter.to_ctm(text, field.params)
        except ConversionError as error:
            errors.append(FieldError(label, xpath, error.msgid, error.params))
            continue
        if codelist is not None and value not in codelist:
            errors.append(FieldError(label, xpath, NOT_A_CTM_CODE, {"code": value, "field": field.name}))
            continue
        values.append(value)
    return values if field.cardinality == "many" else (values[0] if values else None)


def _texts(field: FieldMapping, node: etree._Element) -> tuple[str, list[str]]:
    for index, (xpath, compiled) in enumerate(zip(field.xpaths, field.compiled, strict=True)):
        texts = [text for text in map(_text_of, compiled(node)) if text]
        if texts:
            return xpath, texts
        if field.default is not None and field.owners[index](node):
            return xpath, [field.default]
    return field.xpaths[0], []


def _text_of(hit: str | etree._Element) -> str:
    return (hit if isinstance(hit, str) else hit.text or "").strip()


def _elements(field: FieldMapping, node: etree._Element) -> list[etree._Element]:
    for compiled in field.compiled:
        if found := [hit for hit in compiled(node) if not isinstance(hit, str)]:
            return found
    return []


def oracle_out(mapping: Mapping, record: abc.Mapping[str, Any]) -> etree._Element:
    record_type = mapping.record
    layout = record_type.layout
    root = etree.Element(_tag(record_type.element_out), nsmap={None: NS})
    for path in layout.always:
        _descend(root, (), tuple(path.split("/")), layout, fresh=False)
    errors: list[FieldError] = []
    for field in mapping.fields.values():
        if field.goes_out:
            _write(field, record.get(field.name), root, (), layout, field.name, errors)
    if errors:
        raise RecordError(errors)
    return root


def _write(field: FieldMapping, value: Any, node: Any, base: tuple, layout: Layout, label: str, errors: list) -> None:
    xpath = field.xpaths[0]
    if value is None:
        if field.cardinality == "required":
            errors.append(FieldError(label, xpath, NO_VALUE, {}))
        return
    if field.cardinality != "many":
        _put(field, value, node, base, layout, label, errors, fresh=False)
        return
    if not isinstance(value, list | tuple):
        errors.append(FieldError(label, xpath, NOT_A_LIST, {}))
        return
    for n, item in enumerate(value, 1):
        if not field.parts:
            _put(field, item, node, base, layout, label, errors, fresh=True)
        elif not isinstance(item, abc.Mapping):
            errors.append(FieldError(f"{label}[{n}]", xpath, NOT_AN_ITEM, {}))
        else:
            assert field.target is not None
            element = _descend(node, base, field.target.steps, layout, fresh=True)
            inner = (*base, *field.target.steps)
            for part in field.parts:
                _write(part, item.get(part.name), element, inner, layout, f"{label}[{n}].{part.name}", errors)


def _put(
    field: FieldMapping, value: Any, node: Any, base: tuple, layout: Layout, label: str, errors: list, *, fresh: bool
) -> None:
    try:
        text = field.converter.to_host(value, field.params)
    except ConversionError as error:
        errors.append(FieldError(label, field.xpaths[0], error.msgid, error.params))
        return
    if text is None:
        return
    assert field.target is not None
    element = _descend(node, base, field.target.steps, layout, fresh=fresh)
    if field.target.attribute:
        element.set(field.target.attribute, text)
    else:
        element.text = text


def _descend(node: Any, base: tuple, steps: tuple, layout: Layout, *, fresh: bool) -> Any:
    path = base
    for depth, step in enumerate(steps):
        order = layout.children["/".join(path)]
        path = (*path, step)
        child = None if fresh and depth == len(steps) - 1 else node.find(_tag(step))
        node = _insert(node, order, step) if child is None else child
    return node


def _insert(parent: Any, order: tuple[str, ...], step: str) -> Any:
    rank = order.index(step)
    position = sum(1 for child in parent if order.index(etree.QName(child).localname) <= rank)
    child = etree.SubElement(parent, _tag(step))
    parent.insert(position, child)
    return child


def _tag(local: str) -> str:
    return f"{{{NS}}}{local}"


# -- mappings that take the fallback too --------------------------------------------------------

OVERRIDES = """\
[beneficiary]
version = 7

[beneficiary.fields.nationality]
xpath = [
    "m:Nationality[2]",
    "m:Documents/m:Document[@type='PASSPORT'][1]/@issuingCountry",
    "m:Documents/m:Document/@issuingCountry",
]
converter = "country_alpha3"

[beneficiary.fields.birth_date_precision]
xpath = ["m:Name/@estimated", "m:BirthDate[1]/@estimated", "m:BirthDate/@estimated"]
converter = "estimated_to_precision"
default = "false"

[beneficiary.fields.middle_name]
xpath = ["m:Name/m:MiddleName", "m:Name/m:GivenName[2]", "@middle", "m:Name/@middle"]

[beneficiary.fields.languages]
xpath = ["m:Languages/m:Language[@form='T']", "m:Languages/m:Language", "m:Language"]
cardinality = "many"
converter = "language_639_2"

[beneficiary.fields.vulnerabilities]
xpath = ["@codes", "m:Vulnerabilities/m:Code"]
cardinality = "many"

[beneficiary.fields.documents]
xpath = ["m:Documents/m:Document[@type='PASSPORT']", "m:Documents/m:Document"]
cardinality = "many"

[beneficiary.fields.documents.parts.type]
xpath = ["@type"]
cardinality = "required"

[beneficiary.fields.documents.parts.number]
xpath = ["@number", "m:Number"]
cardinality = "required"

[beneficiary.fields.documents.parts.issuing_country]
xpath = ["@issuingCountry"]
converter = "country_alpha3"

[beneficiary.fields.documents.parts.expires]
xpath = ["@expires"]
converter = "date"
default = "2000-01-01"
"""


INLINE_OVERRIDES = """\
[beneficiary]
version = 2

[beneficiary.fields.citizenships]
xpath = ["m:Documents/m:Document/@issuingCountry"]
cardinality = "many"
converter = "country_alpha3"
default = "THA"

[beneficiary.fields.middle_name]
xpath = ["m:Name/@middle"]
default = "-"

[beneficiary.fields.project_code]
xpath = ["@codes"]
cardinality = "required"

[beneficiary.fields.languages]
xpath = ["m:Languages/m:Language/@form"]
cardinality = "many"
converter = "language_639_2"
default = "tha"

[beneficiary.fields.documents]
xpath = ["m:Documents/m:Document"]
cardinality = "many"

[beneficiary.fields.documents.parts.type]
xpath = ["@type"]

[beneficiary.fields.documents.parts.number]
xpath = ["m:Number"]
cardinality = "required"

[beneficiary.fields.documents.parts.issuing_country]
xpath = ["@issuingCountry"]
converter = "country_alpha3"
default = "LAO"
"""
"""Single-XPath fields the generated functions read inline, with defaults and
requirements on nested attributes, the record's own and an item's."""


def mappings() -> list[Mapping]:
    return [
        *default_mappings().values(),
        effective_mappings(OVERRIDES)["beneficiary"],
        effective_mappings(INLINE_OVERRIDES)["beneficiary"],
    ]


# -- generated host XML -----------------------------------------------------------------------

OTHER_NS = "urn:example:other"
BLANKS = st.sampled_from(["", " ", "\n\t ", None])
NOISE = st.text(string.ascii_letters + string.digits + " -:+.éñ\t\n", max_size=12)
VALUES = st.sampled_from(
    [
        "BEN-0000001",
        "THA",
        "VNM",
        "XXX",
        "tha",
        "fre",
        "zzz",
        "F",
        "M",
        "Q",
        "1998-01-01",
        "1990-02-31",
        "2026-03-02T08:15:00Z",
        "2026-03-02T08:15:00+07:00",
        "2026-03-02",
        "4",
        "-1",
        "x4",
        "true",
        "false",
        "1",
        "PASSPORT",
        "NATIONAL_ID",
        " THA ",
        "VOT",
    ]
)
TEXTS = st.one_of(VALUES, BLANKS, NOISE)


@st.composite
def element(draw: st.DrawFn, name: str, depth: int, names: dict[str, Any]) -> etree._Element:
    """``name`` (in the host's namespace, or another one), with generated text, attributes and children."""
    namespace = draw(st.sampled_from([NS] * 6 + [OTHER_NS]))
    node = etree.Element(f"{{{namespace}}}{name}", nsmap={None: NS, "o": OTHER_NS})
    node.text = draw(TEXTS)
    for attribute in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=4, unique=True)):
        value = draw(TEXTS)
        if value is not None:
            node.set(attribute, value)
    if draw(st.booleans()) and draw(st.booleans()):
        node.append(etree.Comment(draw(NOISE).replace("-", "") or "c"))
        node[-1].tail = draw(TEXTS)
    children = names.get(name, {}) if depth < 3 else {}
    others = st.sampled_from(["Extra", *ALL_NAMES])  # unknown here, or known elsewhere
    names_here = st.one_of(st.sampled_from(sorted(children)), st.sampled_from(sorted(children)), others)
    for child in draw(st.lists(names_here if children else others, max_size=4)) if depth < 3 else []:
        node.append(draw(element(child, depth + 1, children)))
    return node


ATTRIBUTES = [
    "type",
    "number",
    "issuingCountry",
    "expires",
    "estimated",
    "country",
    "location",
    "form",
    "middle",
    "codes",
]

BENEFICIARY_NAMES: dict[str, Any] = {
    "BeneficiaryId": {},
    "MissionCode": {},
    "Name": {"FamilyName": {}, "GivenName": {}, "MiddleName": {}},
    "Sex": {},
    "BirthDate": {},
    "Nationality": {},
    "Documents": {"Document": {"Number": {}}},
    "Languages": {"Language": {}},
    "Language": {},
    "Vulnerabilities": {"Code": {}},
    "ProjectCode": {},
    "RecordVersion": {},
    "LastModified": {},
}
MOVEMENT_NAMES: dict[str, Any] = {
    "MovementId": {},
    "MissionCode": {},
    "ProjectCode": {},
    "MovementType": {},
    "Beneficiaries": {"BeneficiaryId": {}},
    "Origin": {},
    "Destination": {},
    "EarliestDeparture": {},
    "Escort": {},
    "FitToTravel": {},
    "Legs": {
        "Leg": {n: {} for n in ("Sequence", "Carrier", "FlightNumber", "From", "To", "Departure", "Arrival")},
    },
    "Status": {},
}
ALL_NAMES = sorted({*BENEFICIARY_NAMES, *MOVEMENT_NAMES, "FamilyName", "Document", "Code", "Leg", "Sequence"})


@st.composite
def record(draw: st.DrawFn, name: str, names: dict[str, Any]) -> etree._Element:
    """A host record as the CTM would receive it: serialised, then read by the CTM's parser."""
    root = etree.Element(f"{{{NS}}}{name}", nsmap={None: NS, "o": OTHER_NS})
    for attribute in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=2, unique=True)):
        root.set(attribute, draw(VALUES))
    for child in draw(st.lists(st.sampled_from([*names, *names, "Extra", "FamilyName", "Leg"]), max_size=16)):
        root.append(draw(element(child, 1, names)))
    return parse(etree.tostring(root))


RECORDS = st.one_of(record("Beneficiary", BENEFICIARY_NAMES), record("Movement", MOVEMENT_NAMES))


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_record=RECORDS)
def test_plans_read_what_the_xpaths_read(host_record):
    for mapping in mappings():
        mapped = map_in(mapping, host_record)
        assert (mapped.values, mapped.errors) == oracle_in(mapping, host_record)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_record=RECORDS, data=st.data())
def test_a_plan_of_some_fields_reads_them_as_the_whole_mapping_does(host_record, data):
    for mapping in mappings():
        names = frozenset(data.draw(st.lists(st.sampled_from(sorted(mapping.fields)), min_size=1, max_size=3)))
        whole, some = map_in(mapping, host_record), map_in(mapping, host_record, names)
        assert some.values == {name: value for name, value in whole.values.items() if name in names}
        assert list(some.errors) == [e for e in whole.errors if e.field.split("[")[0] in names]
        assert mapping.plan_in_of(names) is mapping.plan_in_of(names)  # compiled once


@pytest.mark.parametrize("name", ["beneficiary.xml", "get_beneficiary_response.xml", "get_movement_response.xml"])
def test_plans_read_the_samples_as_the_xpaths_do(name):
    root = parse((Path(__file__).parent / "testdata" / name).read_bytes())
    for mapping in mappings():
        for found in root.iter(_tag(mapping.record.element_in)):
            mapped = map_in(mapping, found)
            assert (mapped.values, mapped.errors) == oracle_in(mapping, found)


# -- generated records to write ---------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.none(),
    VALUES,
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([date(2026, 4, 15), datetime(2026, 3, 2, 8, 15, tzinfo=UTC), "Day", "Year", "Unknown"]),
    st.sampled_from(["Feminine", "TransgenderMasculine", "Other", "vie", "AVRR", "NONE"]),
)
ITEM = st.one_of(
    VALUES,
    st.dictionaries(st.sampled_from(["type", "number", "issuing_country", "expires", "holder"]), ANY_VALUE, max_size=5),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    values=st.dictionaries(
        st.sampled_from(sorted({name for m in mappings() for name in m.record.slots} | {"remarks"})),
        st.one_of(ANY_VALUE, st.lists(ITEM, max_size=3), st.tuples(ITEM)),
    )
)
def test_plans_write_what_the_old_writer_wrote(values):
    for mapping in default_mappings().values():
        try:
            expected = etree.tostring(oracle_out(mapping, values))
        except RecordError as error:
            with pytest.raises(RecordError) as caught:
                map_out(mapping, values)
            assert caught.value.errors == error.errors
            assert str(caught.value) == str(error)
        else:
            assert etree.tostring(map_out(mapping, values)) == expected


# -- the plans themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("mapping_id", ["beneficiary", "movement"])
def test_the_default_mappings_take_the_walk_only(mapping_id):
    mapping = default_mappings()[mapping_id]
    assert mapping.plan_in.fallbacks == ()


def test_a_path_the_walk_cannot_take_falls_back_to_its_xpath():
    plan = effective_mappings(OVERRIDES)["beneficiary"].plan_in
    assert set(plan.fallbacks) == {
        "m:Nationality[2]",
        "m:Documents/m:Document[@type='PASSPORT'][1]/@issuingCountry",
        "m:BirthDate[1]/@estimated",
        "m:Name/m:GivenName[2]",
        "m:Languages/m:Language[@form='T']",
        "m:Documents/m:Document[@type='PASSPORT']",
    }


def _plans(plan: InPlan) -> abc.Iterator[InPlan]:
    """``plan`` and those of its fields' parts."""
    yield plan
    for _, read in plan.fields:
        if isinstance(read, _Items):
            yield from _plans(read.plan)


def test_generated_functions_hold_no_text_of_the_mappings():
    for mapping in mappings():
        for plan in _plans(mapping.plan_in):
            tree = ast.parse(plan.source)
            texts = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
            assert texts <= {None, True, False, "[", "]."}  # an item's label: "documents[1].type"
            names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
            assert all(re.fullmatch(r"[a-zA-Z]+[0-9]*", name) for name in names)
            assert not names & {name for name in mapping.fields}


def test_a_mapping_is_compiled_once_and_new_overrides_compile_anew():
    beneficiary = default_mappings()["beneficiary"]
    assert beneficiary.plan_in is default_mappings()["beneficiary"].plan_in
    assert beneficiary.plan_out is effective_mappings(None)["beneficiary"].plan_out
    overridden = effective_mappings(OVERRIDES)["beneficiary"]
    assert overridden.plan_in is effective_mappings(OVERRIDES)["beneficiary"].plan_in
    assert overridden.plan_in is not beneficiary.plan_in
    # A mission's next revision changes one field: its mapping (and plan) is another, and reads by it.
    revised = effective_mappings(
        OVERRIDES.replace("version = 7", "version = 8").replace("m:Nationality[2]", "m:Nationality")
    )
    assert revised["beneficiary"].plan_in is not overridden.plan_in
    assert "m:Nationality[2]" not in revised["beneficiary"].plan_in.fallbacks
    twice = "<Nationality>LAO</Nationality><Nationality>KHM</Nationality>"
    host = parse(f"<Beneficiary xmlns='{NS}'>{twice}</Beneficiary>".encode())
    assert map_in(overridden, host).values["nationality"] == "KHM"
    assert map_in(revised["beneficiary"], host).values["nationality"] == "LAO"
    # The movement mapping the overrides leave alone keeps the defaults' plan.
    assert revised["movement"].plan_in is default_mappings()["movement"].plan_in


def test_a_field_that_fails_is_named_by_its_path_as_before():
    host = parse(
        f"<Beneficiary xmlns='{NS}'><MissionCode>THA</MissionCode><Name><FamilyName>A</FamilyName>"
        "<GivenName>B</GivenName></Name><Sex>M</Sex><BirthDate estimated='maybe'>1990-02-31</BirthDate>"
        "<Documents><Document type='PASSPORT' number='1' issuingCountry='THA' expires='soon'/></Documents>"
        "</Beneficiary>".encode()
    )
    errors = map_in(default_mappings()["beneficiary"], host).errors
    assert [str(error) for error in errors] == [
        "birth_date (m:BirthDate): 1990-02-31 is not a date (YYYY-MM-DD).",
        "birth_date_precision (m:BirthDate/@estimated): maybe is not true or false.",
        "documents[1].expires (@expires): soon is not a date (YYYY-MM-DD).",
    ]


# -- hostile XML never reaches a plan -------------------------------------------------------------

HOSTILE_BODIES = st.sampled_from(
    [
        '<!DOCTYPE Beneficiary [<!ENTITY x "THA">]>'
        '<Beneficiary xmlns="{ns}"><MissionCode>&x;</MissionCode></Beneficiary>',
        '<!DOCTYPE Beneficiary SYSTEM "file:///etc/passwd"><Beneficiary xmlns="{ns}"/>',
        '<?xml version="1.0"?><!doctype b [<!entity a "aaaa"><!entity b "&a;&a;">]>'
        '<Beneficiary xmlns="{ns}">&b;</Beneficiary>',
        '<Beneficiary xmlns="{ns}"><MissionCode>&ext;</MissionCode></Beneficiary>',
    ]
)


@settings(max_examples=40, deadline=None, database=None)
@given(body=HOSTILE_BODIES, filler=st.text(string.ascii_letters, max_size=20))
def test_hostile_xml_is_refused_before_any_mapping(body, filler, tmp_path_factory):
    data = body.replace("{ns}", NS).replace("<MissionCode>", f"<MissionCode>{filler}").encode()
    with pytest.raises(HostileXML):
        parse(data)
    path = tmp_path_factory.mktemp("mapping") / "beneficiary.toml"
    path.write_text((tools.DEFAULT_DIR / "beneficiary.toml").read_text())
    code, lines = tools.test(path, data)
    assert code == 1
    assert lines[0].startswith("The sample was refused")


@settings(max_examples=5, deadline=None, database=None)
@given(extra=st.integers(1, 4096))
def test_a_huge_record_is_refused_before_any_mapping(extra):
    head = f'<Beneficiary xmlns="{NS}"><ProjectCode>'.encode()
    tail = b"</ProjectCode></Beneficiary>"
    data = head + b"A" * (MAX_BYTES - len(head) - len(tail) + extra) + tail
    with pytest.raises(HostileXML) as caught:
        parse(data)
    assert caught.value.msgid.startswith("The XML is larger than")
    assert tools.test(tools.DEFAULT_DIR / "beneficiary.toml", data)[0] == 1
