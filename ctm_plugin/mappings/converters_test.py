"""Each built-in converter both ways, its refusals, and converters added by other CTM plugins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ctm_plugin.hooks.extensions import plugin_manager
from ctm_plugin.hooks.specs import hookimpl
from ctm_plugin.mappings import converters as c
from ctm_plugin.mappings.converters import BUILT_IN, ConversionError, Converter, RegistryError

ICT = timezone(timedelta(hours=7))


def params(name: str, **given: object) -> dict:
    schema = BUILT_IN[name].params
    return schema().load(given) if schema else {}


def to_ctm(name: str, text: str, **given: object) -> object:
    return BUILT_IN[name].to_ctm(text, params(name, **given))


def to_host(name: str, value: object, **given: object) -> str | None:
    return BUILT_IN[name].to_host(value, params(name, **given))


def refused(call, *args, **kwargs) -> ConversionError:  # noqa: ANN001
    with pytest.raises(ConversionError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("text", "Nguyễn", "Nguyễn"),
        ("integer", "42", 42),
        ("integer", "-7", -7),
        ("boolean", "true", True),
        ("boolean", "0", False),
        ("date", "1998-01-31", date(1998, 1, 31)),
        ("datetime", "2026-03-02T08:15:00Z", datetime(2026, 3, 2, 8, 15, tzinfo=UTC)),
        ("datetime", "2026-03-02T15:15:00.5+07:00", datetime(2026, 3, 2, 8, 15, 0, 500000, tzinfo=UTC)),
        ("estimated_to_precision", "false", "Day"),
        ("estimated_to_precision", "true", "Year"),
        ("country_alpha3", "VNM", "VNM"),
        ("country_alpha2_to_alpha3", "VN", "VNM"),
        ("language_639_2", "fra", "fra"),
        ("language_639_2", "fre", "fra"),
    ],
)
def test_host_text_becomes_a_ctm_value(name, text, value):
    assert to_ctm(name, text) == value


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("text", "Thị Lan", "Thị Lan"),
        ("integer", 4, "4"),
        ("boolean", False, "false"),
        ("date", date(2031, 5, 30), "2031-05-30"),
        ("datetime", datetime(2026, 4, 16, 9, 40, tzinfo=ICT), "2026-04-16T02:40:00Z"),
        ("estimated_to_precision", "Day", "false"),
        ("estimated_to_precision", "Month", "true"),
        ("estimated_to_precision", "Unknown", None),
        ("country_alpha3", "KHM", "KHM"),
        ("country_alpha2_to_alpha3", "KHM", "KH"),
        ("language_639_2", "fra", "fra"),
    ],
)
def test_a_ctm_value_becomes_host_text(name, value, text):
    assert to_host(name, value) == text


def test_parameters_change_the_conversion():
    assert to_ctm("estimated_to_precision", "1", estimated="Month") == "Month"
    assert to_host("language_639_2", "fra", form="B") == "fre"
    assert to_host("language_639_2", "vie", form="B") == "vie"  # no bibliographic code of its own


@pytest.mark.parametrize(
    ("name", "text", "msgid"),
    [
        ("integer", "4.0", c.NOT_AN_INTEGER),
        ("boolean", "yes", c.NOT_A_BOOLEAN),
        ("date", "1998-02-30", c.NOT_A_DATE),
        ("date", "19980101", c.NOT_A_DATE),
        ("datetime", "2026-03-02T08:15:00", c.NOT_A_DATETIME),
        ("datetime", "2026-03-02", c.NOT_A_DATETIME),
        ("estimated_to_precision", "maybe", c.NOT_A_BOOLEAN),
        ("country_alpha3", "vnm", c.UNKNOWN_COUNTRY),
        ("country_alpha3", "XXX", c.UNKNOWN_COUNTRY),
        ("country_alpha2_to_alpha3", "ZZ", c.UNKNOWN_COUNTRY),
        ("language_639_2", "xx", c.UNKNOWN_LANGUAGE),
        ("language_639_2", "FRA", c.UNKNOWN_LANGUAGE),
    ],
)
def test_text_that_does_not_convert_is_refused_naming_it(name, text, msgid):
    error = refused(to_ctm, name, text)
    assert (error.msgid, error.params) == (msgid, {"value": text})
    assert text in error.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("text", 3),
        ("integer", True),
        ("integer", "4"),
        ("boolean", "true"),
        ("date", datetime(2026, 1, 1, tzinfo=UTC)),
        ("datetime", datetime(2026, 1, 1)),  # noqa: DTZ001 - naive on purpose
        ("estimated_to_precision", "Week"),
        ("country_alpha3", "VN"),
        ("country_alpha2_to_alpha3", "ZZZ"),
        ("language_639_2", "fr"),
        ("language_639_2", ["fra"]),
        ("country_alpha3", ["VNM"]),
        ("codes", ["Feminine"]),
    ],
)
def test_a_ctm_value_of_the_wrong_kind_is_refused(name, value):
    table = {"codes": {"F": "Feminine"}} if name == "codes" else {}
    assert refused(to_host, name, value, **table).params == {"value": value}


def test_a_code_table_is_reversed_for_what_goes_out():
    table = {"codes": {"F": "Feminine", "W": "Feminine", "M": "Masculine"}, "codes_out": {"TransgenderFeminine": "X"}}
    assert to_ctm("codes", "W", **table) == "Feminine"
    assert to_host("codes", "Feminine", **table) == "F"  # the first host code listed wins
    assert to_host("codes", "TransgenderFeminine", **table) == "X"
    unknown = refused(to_ctm, "codes", "Q", **table)
    assert unknown.msgid == c.UNKNOWN_CODE
    assert unknown.message == "Q is not in the field's code table."
    assert refused(to_host, "codes", "NonConforming", **table).msgid == c.NO_HOST_CODE
    assert sorted(BUILT_IN["codes"].ctm_values(params("codes", **table))) == [
        "Feminine",
        "Feminine",
        "Masculine",
        "TransgenderFeminine",
    ]


class Upper:
    """A plugin offering a converter, as another CTM plugin would through ``ctm.plugins``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def ctm_mapping_converters(self):
        return [Converter(self.name, lambda text, _params: text.lower(), lambda value, _params: value.upper())]


@pytest.fixture
def registered():
    manager = plugin_manager()
    added = []

    def register(plugin: object, name: str) -> None:
        manager.register(plugin, name=name)
        added.append(plugin)

    yield register
    for plugin in added:
        manager.unregister(plugin)


def test_a_plugin_adds_a_converter(registered):
    registered(Upper("upper"), "upper-plugin")
    assert c.converters()["upper"].to_host("abc", {}) == "ABC"
    assert set(BUILT_IN) < set(c.converters())


@pytest.mark.parametrize("name", ["date", "upper"])
def test_a_plugin_cannot_take_a_name_already_taken(registered, name):
    registered(Upper("upper"), "first")
    registered(Upper(name), "second")
    with pytest.raises(RegistryError) as caught:
        c.converters()
    assert caught.value.params["name"] == name
    assert caught.value.params["plugin"] in ({"second"} if name == "date" else {"first", "second"})
