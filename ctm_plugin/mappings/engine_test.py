"""Mapping records in and out with the default mappings, a mission's overrides, and plugin converters."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ctm_plugin.hooks.extensions import plugin_manager
from ctm_plugin.hooks.specs import hookimpl
from ctm_plugin.mappings import engine
from ctm_plugin.mappings.converters import ConversionError, Converter
from ctm_plugin.mappings.engine import (
    NO_VALUE,
    NOT_A_LIST,
    NOT_AN_ITEM,
    NOT_FOUND,
    RecordError,
    default_mappings,
    effective_mappings,
    map_in,
    map_out,
    parse_mapping,
    with_overrides,
)
from ctm_plugin.mappings.problems import MappingError
from ctm_plugin.mappings.records import BENEFICIARY, MOVEMENT, NS
from ctm_plugin.security.xml import parse

TESTDATA = Path(__file__).parent / "testdata"
XSD = Path(__file__).parents[2] / "host" / "mimosa_host" / "soap" / "wsdl" / "mimosa.xsd"

SAMPLE = {
    "beneficiary_id": "BEN-0000123",
    "mission_code": "THA",
    "family_name": "Nguyễn",
    "given_name": "Thị Lan",
    "middle_name": None,
    "gender": "Feminine",
    "birth_date": date(1998, 1, 1),
    "birth_date_precision": "Year",
    "nationality": "VNM",
    "citizenships": ["VNM"],
    "documents": [
        {"type": "PASSPORT", "number": "C1234567", "issuing_country": "VNM", "expires": date(2031, 5, 30)},
        {"type": "NATIONAL_ID", "number": "079198001234", "issuing_country": "VNM", "expires": None},
    ],
    "languages": ["vie", "tha"],
    "vulnerabilities": ["VOT"],
    "project_code": "TH-AVRR-2026",
    "record_version": 4,
    "last_modified": datetime(2026, 3, 2, 8, 15, tzinfo=UTC),
}

BOOKING = {
    "mission_code": "THA",
    "project_code": "THA-CT-01",
    "movement_type": "AVRR",
    "beneficiary_ids": ["BEN-0000123"],
    "origin_country": "THA",
    "origin_location": "BKK",
    "destination_country": "VNM",
    "destination_location": "SGN",
    "earliest_departure": date(2026, 4, 15),
    "escort": "NONE",
    "fit_to_travel": True,
}


def sample(name: str) -> etree._Element:
    return parse((TESTDATA / name).read_bytes())


def record_in(root: etree._Element, name: str) -> etree._Element:
    return next(root.iter(f"{{{NS}}}{name}"))


def beneficiary(xml: str) -> etree._Element:
    return parse(f'<Beneficiary xmlns="{NS}">{xml}</Beneficiary>'.encode())


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(XSD))


def valid(schema: etree.XMLSchema, operation: str, element: etree._Element) -> bool:
    """``element`` inside the request of ``operation``, as the host would receive it."""
    request = etree.Element(f"{{{NS}}}{operation}", nsmap={None: NS})
    request.append(element)
    etree.SubElement(request, f"{{{NS}}}ClientReference").text = "ctm-0001"
    return schema.validate(request) or pytest.fail(str(schema.error_log))


# -- in ---------------------------------------------------------------------------------------


def test_a_beneficiary_maps_in():
    mapped = map_in(default_mappings()["beneficiary"], sample("beneficiary.xml"))
    assert mapped.errors == ()
    assert (mapped.mapping_id, mapped.mapping_version) == ("beneficiary", "1")
    assert mapped.values == SAMPLE


def test_the_record_in_a_soap_envelope_maps_in():
    element = record_in(sample("get_beneficiary_response.xml"), "Beneficiary")
    values = map_in(default_mappings()["beneficiary"], element).values
    assert values["middle_name"] == "Vanna"
    assert values["gender"] == "Masculine"
    assert (values["birth_date"], values["birth_date_precision"]) == (date(2007, 11, 19), "Day")
    assert values["documents"] == []
    assert values["vulnerabilities"] == ["UAM", "VOT"]
    assert values["project_code"] is None
    assert values["last_modified"] == datetime(2026, 2, 11, 7, 0, tzinfo=UTC)


def test_a_movement_maps_in_with_its_legs():
    mapped = map_in(default_mappings()["movement"], record_in(sample("get_movement_response.xml"), "Movement"))
    assert mapped.errors == ()
    assert mapped.values["status"] == "BOOKED"
    assert mapped.values["legs"] == [
        {
            "sequence": 1,
            "carrier": "Vietnam Airlines",
            "flight_number": "VN606",
            "from": "BKK",
            "to": "SGN",
            "departure": datetime(2026, 4, 16, 2, 40, tzinfo=UTC),
            "arrival": datetime(2026, 4, 16, 4, 15, tzinfo=UTC),
        }
    ]


def test_errors_name_the_field_and_the_xpath_and_the_rest_still_maps():
    element = beneficiary(
        "<BeneficiaryId>BEN-0000001</BeneficiaryId><MissionCode>THA</MissionCode>"
        "<Name><GivenName>A</GivenName></Name><Sex>Q</Sex><BirthDate>1990-02-31</BirthDate>"
        "<Documents><Document type='PASSPORT' issuingCountry='XXX'/></Documents>"
        "<Languages><Language>vie</Language><Language>zzz</Language></Languages>"
    )
    mapped = map_in(default_mappings()["beneficiary"], element)
    assert [(e.field, e.xpath, e.message) for e in mapped.errors] == [
        ("family_name", "m:Name/m:FamilyName", NOT_FOUND),
        ("gender", "m:Sex", "%(value)s is not in the field's code table."),
        ("birth_date", "m:BirthDate", "%(value)s is not a date (YYYY-MM-DD)."),
        ("documents[1].number", "@number", NOT_FOUND),
        (
            "documents[1].issuing_country",
            "@issuingCountry",
            "%(value)s is not an ISO 3166-1 country code the CTM knows.",
        ),
        ("languages", "m:Languages/m:Language", "%(value)s is not an ISO 639-2 language code the CTM knows."),
    ]
    assert str(mapped.errors[1]) == "gender (m:Sex): Q is not in the field's code table."
    assert mapped.values["languages"] == ["vie"]
    assert mapped.values["given_name"] == "A"
    assert mapped.values["gender"] is None


def test_a_value_outside_the_fields_code_list_is_an_error():
    mapping = with_overrides(
        default_mappings()["beneficiary"],
        '[beneficiary]\nversion = 1\n[beneficiary.fields.gender]\nxpath = ["m:Sex"]\n',
    )
    mapped = map_in(mapping, beneficiary("<Sex>F</Sex>"))
    error = next(e for e in mapped.errors if e.field == "gender")
    assert (error.message, dict(error.params)) == (
        "%(code)s is not a CTM code for %(field)s.",
        {"code": "F", "field": "gender"},
    )


def test_the_first_xpath_that_finds_a_value_wins():
    overrides = """
[beneficiary]
version = 2
[beneficiary.fields.nationality]
xpath = [
    "m:Nationality",
    "m:Documents/m:Document[@type='PASSPORT'][1]/@issuingCountry",
    "m:Documents/m:Document/@issuingCountry",
]
converter = "country_alpha3"
direction = "both"
"""
    mapping = effective_mappings(overrides)["beneficiary"]
    documents = (
        "<Documents><Document type='NATIONAL_ID' number='1' issuingCountry='LAO'/>"
        "<Document type='PASSPORT' number='2' issuingCountry='MMR'/></Documents>"
    )
    assert map_in(mapping, beneficiary(f"<Nationality>KHM</Nationality>{documents}")).values["nationality"] == "KHM"
    assert map_in(mapping, beneficiary(f"<Nationality> </Nationality>{documents}")).values["nationality"] == "MMR"
    only_id = "<Documents><Document type='NATIONAL_ID' number='1' issuingCountry='LAO'/></Documents>"
    assert map_in(mapping, beneficiary(only_id)).values["nationality"] == "LAO"
    assert map_in(mapping, beneficiary("")).values["nationality"] is None


def test_an_attribute_default_applies_only_where_its_element_is():
    mapping = default_mappings()["beneficiary"]
    assert map_in(mapping, beneficiary("<BirthDate>2001-05-06</BirthDate>")).values["birth_date_precision"] == "Day"
    assert map_in(mapping, beneficiary("")).values["birth_date_precision"] is None


def test_xpaths_are_compiled_once_per_mapping():
    first = default_mappings()["beneficiary"].fields["gender"].compiled
    assert default_mappings()["beneficiary"].fields["gender"].compiled is first


# -- out --------------------------------------------------------------------------------------


def test_a_beneficiary_maps_out_in_the_xsd_order_and_validates(schema):
    element = map_out(default_mappings()["beneficiary"], SAMPLE)
    assert local_names(element) == [
        "BeneficiaryId",
        "MissionCode",
        "Name",
        "Sex",
        "BirthDate",
        "Nationality",
        "Documents",
        "Languages",
        "Vulnerabilities",
        "ProjectCode",
        "RecordVersion",
    ]
    assert element.find(f"{{{NS}}}BirthDate").get("estimated") == "true"
    assert valid(schema, "SaveBeneficiary", element)


def test_a_new_person_maps_out_with_the_containers_the_xsd_requires(schema):
    person = {"mission_code": "KHM", "family_name": "Sok", "given_name": "Dara", "gender": "TransgenderMasculine"}
    element = map_out(default_mappings()["beneficiary"], {**person, "birth_date_precision": "Unknown"})
    assert local_names(element) == ["MissionCode", "Name", "Sex", "Documents", "Languages", "Vulnerabilities"]
    assert element.findtext(f"{{{NS}}}Sex") == "X"
    assert valid(schema, "SaveBeneficiary", element)


def test_a_booking_maps_out_and_validates(schema):
    element = map_out(default_mappings()["movement"], BOOKING)
    assert etree.QName(element).localname == "MovementRequest"
    assert local_names(element) == [
        "MissionCode",
        "ProjectCode",
        "MovementType",
        "Beneficiaries",
        "Origin",
        "Destination",
        "EarliestDeparture",
        "Escort",
        "FitToTravel",
    ]
    assert valid(schema, "BookMovement", element)
    element.remove(element.find(f"{{{NS}}}ProjectCode"))
    request = etree.Element(f"{{{NS}}}BookMovement")
    request.append(element)
    etree.SubElement(request, f"{{{NS}}}ClientReference").text = "ctm-0001"
    assert not schema.validate(request)  # the XSD requires ProjectCode, as the contract does
    assert "ProjectCode" in str(schema.error_log)


def test_fields_are_written_in_the_xsd_order_whatever_the_file_order():
    text = (engine.DEFAULT_DIR / "movement.toml").read_text()
    head, tables = text.split("\n[fields.", 1)
    reordered = head + "".join(f"\n[fields.{table}" for table in reversed(tables.split("\n[fields.")))
    mapping = parse_mapping(reordered)
    assert list(mapping.fields)[0] != "movement_id"
    assert local_names(map_out(mapping, BOOKING)) == local_names(map_out(default_mappings()["movement"], BOOKING))


def test_what_cannot_be_written_is_refused_naming_the_fields():
    record = {**BOOKING, "earliest_departure": "2026-04-15", "beneficiary_ids": "BEN-0000123", "escort": None}
    with pytest.raises(RecordError) as caught:
        map_out(default_mappings()["movement"], record)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("beneficiary_ids", NOT_A_LIST),
        ("earliest_departure", "%(value)s is not a date (YYYY-MM-DD)."),
        ("escort", NO_VALUE),
    ]
    person = {**SAMPLE, "documents": ["C1234567", {"type": "PASSPORT", "issuing_country": "VNM"}]}
    with pytest.raises(RecordError) as caught:
        map_out(default_mappings()["beneficiary"], person)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("documents[1]", NOT_AN_ITEM),
        ("documents[2].number", NO_VALUE),
    ]


@pytest.mark.parametrize("name", ["beneficiary.xml", "get_beneficiary_response.xml"])
def test_in_out_in_is_stable(name):
    mapping = default_mappings()["beneficiary"]
    first = map_in(mapping, record_in(sample(name), "Beneficiary"))
    again = map_in(mapping, map_out(mapping, first.values))
    both = [f.name for f in mapping.fields.values() if f.goes_in and f.goes_out]
    assert {k: again.values[k] for k in both} == {k: first.values[k] for k in both}
    assert again.values["citizenships"] == first.values["citizenships"]  # read back from Nationality
    assert etree.tostring(map_out(mapping, again.values)) == etree.tostring(map_out(mapping, first.values))


def test_a_booking_out_and_in_again_keeps_its_travel_facts():
    mapping = default_mappings()["movement"]
    again = map_in(mapping, map_out(mapping, BOOKING))
    assert {k: again.values[k] for k in BOOKING} == BOOKING
    assert {e.field for e in again.errors} == {"movement_id", "status"}  # the host's to give


# -- data minimisation (security.md DP-06) ----------------------------------------------------

MARKER = st.from_regex(r"Zq[a-z]{6}", fullmatch=True)
CASE_KEYS = st.sampled_from(
    ["exploitation_types", "perpetrator_name", "health", "remarks", "Remarks", "Legs", "status", "case_notes"]
)
EXTRA_KEY = st.one_of(CASE_KEYS, st.text(string.ascii_letters + "_", min_size=1, max_size=20))


def allowed_names(record_type) -> set[str]:  # noqa: ANN001
    layout = record_type.layout
    names = {record_type.element_out, *(n for children in layout.children.values() for n in children)}
    return names | {a for attributes in layout.attributes.values() for a in attributes}


def leaks(element: etree._Element, markers: list[str], record_type) -> list[str]:  # noqa: ANN001
    xml = etree.tostring(element, encoding="unicode")
    found = [marker for marker in markers if marker in xml]
    names = {etree.QName(e).localname for e in element.iter()} | {a for e in element.iter() for a in e.attrib}
    return found + sorted(names - allowed_names(record_type))


@settings(max_examples=60, deadline=None, database=None)
@given(
    extra=st.dictionaries(EXTRA_KEY, MARKER, max_size=8),
    in_only=st.lists(MARKER, min_size=1, max_size=3),
    in_documents=MARKER,
)
def test_nothing_but_the_out_fields_reaches_a_beneficiary(extra, in_only, in_documents):
    mapping = default_mappings()["beneficiary"]
    record = {key: value for key, value in extra.items() if key not in BENEFICIARY.slots}
    record |= {**SAMPLE, "citizenships": in_only, "last_modified": in_only[0]}
    record["documents"] = [{**extra, **SAMPLE["documents"][0], "holder": in_documents}]
    element = map_out(mapping, record)
    assert leaks(element, [*extra.values(), *in_only, in_documents], BENEFICIARY) == []


@settings(max_examples=60, deadline=None, database=None)
@given(extra=st.dictionaries(EXTRA_KEY, st.one_of(MARKER, st.lists(MARKER, max_size=3)), max_size=8))
def test_nothing_of_the_case_reaches_a_booking(extra):
    record = {**{key: value for key, value in extra.items() if key not in MOVEMENT.slots}, **BOOKING}
    record |= {"movement_id": "Zqmovement", "status": "Zqstatus", "legs": [{"carrier": "Zqcarrier"}]}
    markers = [m for value in extra.values() for m in (value if isinstance(value, list) else [value])]
    element = map_out(default_mappings()["movement"], record)
    assert leaks(element, [*markers, "Zqmovement", "Zqstatus", "Zqcarrier"], MOVEMENT) == []


# -- overrides and plugin converters ----------------------------------------------------------

OVERRIDES = """\
[beneficiary]
version = 3
description = "THA: the host codes sex as W / M / O / U"

[beneficiary.fields.gender]
xpath = ["m:Sex"]
cardinality = "required"
direction = "both"
converter = "codes"
codes = { W = "Feminine", M = "Masculine", O = "NonConforming", U = "NonSpecifiedUnknown" }
"""


def test_an_override_replaces_a_field_and_stamps_its_version():
    mapping = effective_mappings(OVERRIDES)["beneficiary"]
    assert mapping.version == "1+m3"
    assert mapping.description == "THA: the host codes sex as W / M / O / U"
    assert mapping.fields["gender"].params["codes"]["W"] == "Feminine"
    assert list(mapping.fields) == list(default_mappings()["beneficiary"].fields)
    assert map_in(mapping, beneficiary("<Sex>W</Sex>")).values["gender"] == "Feminine"
    assert map_out(mapping, SAMPLE).findtext(f"{{{NS}}}Sex") == "W"
    assert effective_mappings(OVERRIDES)["movement"] == default_mappings()["movement"]
    assert with_overrides(default_mappings()["beneficiary"], OVERRIDES) == mapping
    assert with_overrides(default_mappings()["movement"], OVERRIDES) is default_mappings()["movement"]


@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_no_overrides_means_the_defaults(text):
    assert effective_mappings(text) == default_mappings()


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        (OVERRIDES.replace('O = "NonConforming"', 'O = "Other"'), "beneficiary.fields.gender", 5),
        (OVERRIDES.replace("version = 3", "version = 0"), "beneficiary.version", 2),
        (OVERRIDES.replace("version = 3\n", ""), "beneficiary.version", 1),
        (OVERRIDES + "\n[person]\nversion = 1\n", "person", 12),
        (
            OVERRIDES + '\n[movement]\nversion = 1\n[movement.fields.remarks]\nxpath = ["m:Remarks"]\n',
            "movement.fields.remarks",
            14,
        ),
        (
            OVERRIDES.replace("[beneficiary.fields.gender]", "[beneficiary.fields.gender]\nxpath2 = 1"),
            "beneficiary.fields.gender.xpath2",
            6,
        ),
        ("[beneficiary\n", "", 1),
    ],
)
def test_a_bad_override_is_refused_naming_where(text, path, line):
    with pytest.raises(MappingError) as caught:
        effective_mappings(text)
    assert (caught.value.file, caught.value.path, caught.value.line) == ("mapping_overrides", path, line)
    assert str(caught.value).startswith(f"mapping_overrides:{line}: ")


def test_an_override_cannot_write_a_place_twice():
    text = (
        '[beneficiary]\nversion = 1\n[beneficiary.fields.project_code]\nxpath = ["m:Nationality"]\ndirection = "both"\n'
    )
    with pytest.raises(MappingError) as caught:
        effective_mappings(text)
    assert (caught.value.path, caught.value.line) == ("beneficiary.fields.project_code.xpath", 4)


class Slugs:
    @hookimpl
    def ctm_mapping_converters(self):
        def to_ctm(text: str, _params: object) -> str:
            if not text.isascii():
                raise ConversionError("%(value)s is not ASCII.", value=text)
            return text.lower()

        return [Converter("slug", to_ctm, lambda value, _params: value.upper())]


def test_a_converter_from_a_plugin_can_be_named_in_a_mapping():
    plugin = Slugs()
    plugin_manager().register(plugin, name="slugs")
    try:
        text = (
            "[beneficiary]\nversion = 1\n[beneficiary.fields.project_code]\n"
            'xpath = ["m:ProjectCode"]\nconverter = "slug"\ndirection = "both"\n'
        )
        mapping = effective_mappings(text, "plugin-test")["beneficiary"]
        assert map_in(mapping, beneficiary("<ProjectCode>TH-AVRR</ProjectCode>")).values["project_code"] == "th-avrr"
        assert map_out(mapping, SAMPLE | {"project_code": "th-avrr"}).findtext(f"{{{NS}}}ProjectCode") == "TH-AVRR"
        assert (
            map_in(mapping, beneficiary("<ProjectCode>TH-É</ProjectCode>")).errors[-1].message
            == "%(value)s is not ASCII."
        )
    finally:
        plugin_manager().unregister(plugin)
    with pytest.raises(MappingError) as caught:
        effective_mappings(text, "plugin-test-2")
    assert (caught.value.path, caught.value.line) == ("beneficiary.fields.project_code.converter", 5)
