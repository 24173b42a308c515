"""Named converters between the host's text and the CTM's values.

``to_ctm`` takes the (stripped, non-empty) text an XPath found; ``to_host`` takes the CTM's
value and gives the text to write, or ``None`` for "write nothing". Both raise
:class:`ConversionError`. A converter's parameters are keys of the field's table in the
mapping file, checked by its ``params`` schema when the file is loaded. Other plugins add
converters through the ``ctm_mapping_converters`` hook; they cannot replace a built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from ctm_plugin.codelists import geo
from ctm_plugin.hooks.extensions import plugin_manager
from ctm_plugin.i18n import N_, TranslatedError

Params = Mapping[str, Any]

NOT_TEXT = N_("Expected text, not %(value)s.")
NOT_AN_INTEGER = N_("%(value)s is not a whole number.")
NOT_A_BOOLEAN = N_("%(value)s is not true or false.")
NOT_A_DATE = N_("%(value)s is not a date (YYYY-MM-DD).")
NOT_A_DATETIME = N_("%(value)s is not a date and time with its time zone (YYYY-MM-DDThh:mm:ssZ).")
NOT_A_PRECISION = N_("%(value)s is not a date precision (Day, Month, Year or Unknown).")
UNKNOWN_COUNTRY = N_("%(value)s is not an ISO 3166-1 country code the CTM knows.")
UNKNOWN_LANGUAGE = N_("%(value)s is not an ISO 639-2 language code the CTM knows.")
UNKNOWN_CODE = N_("%(value)s is not in the field's code table.")
NO_HOST_CODE = N_("The CTM code %(value)s has no host code in the field's code table.")
TAKEN = N_("The CTM plugin %(plugin)s offers a converter named %(name)s, a name already taken.")

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_COUNTRIES = frozenset(geo.COUNTRY.values)
_LANGUAGES = frozenset(geo.LANGUAGE.values)


class ConversionError(TranslatedError):
    """A value that does not convert; the message may quote it: show it, never log it."""


class RegistryError(RuntimeError):
    """Two converters under one name: a deployment error, raised when the converters are gathered."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params)
        self.msgid = msgid
        self.params = params


@dataclass(frozen=True)
class Converter:
    name: str
    to_ctm: Callable[[str, Params], Any]
    to_host: Callable[[Any, Params], str | None]
    params: type[Schema] | None = None
    """The converter's own keys in a field table; without it, a field table has none."""
    ctm_values: Callable[[Params], Iterable[str]] | None = None
    """The CTM codes its parameters name, checked against the field's code list at load time."""


class ParamsSchema(Schema):
    """Base of converter parameter schemas: unknown keys are refused, messages are msgids."""

    error_messages = {"unknown": N_("Unknown key."), "type": N_("Expected a table.")}

    class Meta:
        unknown = RAISE


def _check(condition: bool, msgid: str, value: object) -> None:
    """(The converters reading host values raise directly: they run for every value of every record.)"""
    if not condition:
        raise ConversionError(msgid, value=value)


# -- text, numbers, dates ---------------------------------------------------------------------


def _text_out(value: Any, _params: Params) -> str:
    _check(isinstance(value, str), NOT_TEXT, value)
    return value


def _integer_in(text: str, _params: Params) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise ConversionError(NOT_AN_INTEGER, value=text)
    return int(text)


def _integer_out(value: Any, _params: Params) -> str:
    _check(isinstance(value, int) and not isinstance(value, bool), NOT_AN_INTEGER, value)
    return str(value)


def _boolean_in(text: str, _params: Params) -> bool:
    if text not in _BOOLEANS:
        raise ConversionError(NOT_A_BOOLEAN, value=text)
    return _BOOLEANS[text]


def _boolean_out(value: Any, _params: Params) -> str:
    _check(isinstance(value, bool), NOT_A_BOOLEAN, value)
    return "true" if value else "false"


def _date_in(text: str, _params: Params) -> date:
    if _DATE.fullmatch(text) is None:
        raise ConversionError(NOT_A_DATE, value=text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConversionError(NOT_A_DATE, value=text) from None


def _date_out(value: Any, _params: Params) -> str:
    _check(isinstance(value, date) and not isinstance(value, datetime), NOT_A_DATE, value)
    return value.isoformat()


def _datetime_in(text: str, _params: Params) -> datetime:
    if _DATETIME.fullmatch(text) is None:
        raise ConversionError(NOT_A_DATETIME, value=text)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise ConversionError(NOT_A_DATETIME, value=text) from None


def _datetime_out(value: Any, _params: Params) -> str:
    _check(isinstance(value, datetime) and value.tzinfo is not None, NOT_A_DATETIME, value)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- the estimated birth date -----------------------------------------------------------------


class EstimatedParams(ParamsSchema):
    estimated = fields.String(
        load_default="Year",
        validate=validate.OneOf(("Month", "Year"), error=N_('Use "Month" or "Year".')),
        error_messages={"invalid": N_('Use "Month" or "Year".')},
    )


def _estimated_in(text: str, params: Params) -> str:
    return params["estimated"] if _boolean_in(text, params) else "Day"


def _estimated_out(value: Any, _params: Params) -> str | None:
    _check(value in ("Day", "Month", "Year", "Unknown"), NOT_A_PRECISION, value)
    return None if value == "Unknown" else "false" if value == "Day" else "true"


# -- countries and languages ------------------------------------------------------------------


def _alpha3(value: Any, _params: Params) -> str:
    if not (isinstance(value, str) and value in _COUNTRIES):
        raise ConversionError(UNKNOWN_COUNTRY, value=value)
    return value


def _alpha2_in(text: str, _params: Params) -> str:
    country = pycountry.countries.get(alpha_2=text) if len(text) == 2 and text.isupper() else None
    _check(country is not None and country.alpha_3 in _COUNTRIES, UNKNOWN_COUNTRY, text)
    assert country is not None  # _check refused it otherwise
    return country.alpha_3


def _alpha2_out(value: Any, params: Params) -> str:
    country = pycountry.countries.get(alpha_3=_alpha3(value, params))
    assert country is not None  # geo.COUNTRY is made of pycountry's countries
    return country.alpha_2


class LanguageParams(ParamsSchema):
    form = fields.String(
        load_default="T",
        validate=validate.OneOf(("T", "B"), error=N_('Use "T" or "B".')),
        error_messages={"invalid": N_('Use "T" or "B".')},
    )


def _language_in(text: str, _params: Params) -> str:
    """The CTM keeps ISO 639-2/T; a bibliographic code (``fre``) reads as its T code (``fra``)."""
    if text in _LANGUAGES:
        return text
    language = pycountry.languages.get(bibliographic=text) if text.islower() else None
    _check(language is not None and language.alpha_3 in _LANGUAGES, UNKNOWN_LANGUAGE, text)
    assert language is not None  # _check refused it otherwise
    return language.alpha_3


def _language_out(value: Any, params: Params) -> str:
    _check(isinstance(value, str) and value in _LANGUAGES, UNKNOWN_LANGUAGE, value)
    if params["form"] == "B":
        return getattr(pycountry.languages.get(alpha_3=value), "bibliographic", value)
    return value


# -- code tables ------------------------------------------------------------------------------

BAD_TABLE = N_("A code table maps codes to codes: text to text, at least one entry.")


class CodesParams(ParamsSchema):
    codes = fields.Dict(
        required=True,
        error_messages={"required": N_("This key is required."), "invalid": BAD_TABLE},
    )
    codes_out = fields.Dict(
        load_default=dict,
        error_messages={"invalid": BAD_TABLE},
    )

    @validates("codes", "codes_out")
    def _text_to_text(self, table: dict[Any, Any], data_key: str) -> None:
        entries = list(table.items())
        if (data_key == "codes" and not entries) or not all(
            isinstance(code, str) and code and isinstance(to, str) and to for code, to in entries
        ):
            raise ValidationError(BAD_TABLE)


def _codes_in(text: str, params: Params) -> str:
    if text not in params["codes"]:
        raise ConversionError(UNKNOWN_CODE, value=text)
    return params["codes"][text]


def _codes_out(value: Any, params: Params) -> str:
    """``codes_out`` first, then the first host code the table maps to the value."""
    _check(isinstance(value, str), NO_HOST_CODE, value)
    if value in params["codes_out"]:
        return params["codes_out"][value]
    found = next((host for host, ctm in params["codes"].items() if ctm == value), None)
    _check(found is not None, NO_HOST_CODE, value)
    assert found is not None  # _check refused it otherwise
    return found


def _codes_ctm_values(params: Params) -> Iterable[str]:
    return [*params["codes"].values(), *params["codes_out"]]


def _same(text: str, _params: Params) -> str:
    return text


BUILT_IN: dict[str, Converter] = {
    converter.name: converter
    for converter in (
        Converter("text", _same, _text_out),
        Converter("integer", _integer_in, _integer_out),
        Converter("boolean", _boolean_in, _boolean_out),
        Converter("date", _date_in, _date_out),
        Converter("datetime", _datetime_in, _datetime_out),
        Converter("estimated_to_precision", _estimated_in, _estimated_out, EstimatedParams),
        Converter("country_alpha3", _alpha3, _alpha3),
        Converter("country_alpha2_to_alpha3", _alpha2_in, _alpha2_out),
        Converter("language_639_2", _language_in, _language_out, LanguageParams),
        Converter("codes", _codes_in, _codes_out, CodesParams, _codes_ctm_values),
    )
}


def converters() -> dict[str, Converter]:
    """The built-in converters and those of the CTM's plugins, by name."""
    found = dict(BUILT_IN)
    for impl in plugin_manager().hook.ctm_mapping_converters.get_hookimpls():
        for converter in cast("Iterable[Converter]", impl.function()):  # the hook's specification
            if converter.name in found:
                raise RegistryError(TAKEN, plugin=impl.plugin_name, name=converter.name)
            found[converter.name] = converter
    return found
