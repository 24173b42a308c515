"""Building blocks for the CTM's schemas: every error is a msgid of the ``ctm_plugin`` domain,
so the page shows it in the reader's language, next to the field it names.

Form values arrive as strings (blank means "not given"); lists come from multi-selects.
Dates may not lie in the future nor before the person's birth date, when it is known.
A date may come with a precision (day, month, year): it then stands for the whole period,
is checked by the period's first and last days, and is stored as the period's first day.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema
from marshmallow.types import ErrorMessages

from ctm_plugin import i18n
from ctm_plugin.codelists import CodeList
from ctm_plugin.domain import money
from ctm_plugin.i18n import N_

REQUIRED = N_("This field is required.")
NOT_A_DATE = N_("Enter a valid date (YYYY-MM-DD).")
NOT_A_NUMBER = N_("Enter a whole number.")
NOT_A_DECIMAL = N_("Enter a number.")
NOT_IN_LIST = N_("Choose a value from the list.")
IN_THE_FUTURE = N_("The date cannot be in the future.")
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
"""The days any date field may name: beyond them no moment a timestamp holds in UTC, and no case's day."""
DAY_OUT_OF_RANGE = N_("Enter a day between 1900 and 2999.")
IN_THE_PAST = N_("The date cannot be in the past.")
BEFORE_BIRTH = N_("The date cannot be before the person's birth date.")
END_BEFORE_START = N_("The end cannot be before the start.")
TOO_LONG = N_("The text is too long.")
PRECISION_WITHOUT_DATE = N_("Give the date, or set its precision to unknown.")
DATE_WITHOUT_PRECISION = N_("Say how precise the date is.")
CONTROL_CHARACTERS = N_("Remove the control characters from this text.")
NOT_AN_AMOUNT = N_("Enter an amount, e.g. 1250.50.")
AMOUNT_RANGE = N_("Enter an amount greater than zero and below 1,000,000,000.")
TOO_MANY_DECIMALS = {
    0: N_("This currency has no decimals: enter a whole amount."),
    2: N_("This currency has at most 2 decimals."),
    3: N_("This currency has at most 3 decimals."),
    4: N_("This currency has at most 4 decimals."),
}
UNKNOWN_CURRENCY = N_("Choose a currency from the list.")

NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What XML 1.0 cannot carry (so neither can a request to the host) and PostgreSQL cannot store (NUL):
never part of a text someone typed. Tabs and line breaks are text."""
NOT_IN_IDENTIFIER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
"""Control characters of any kind, surrogates and non-characters: never part of a name, a code or a credential."""

_BASIC: ErrorMessages = {"required": REQUIRED, "null": REQUIRED}
_CHOICE: ErrorMessages = {**_BASIC, "invalid": NOT_IN_LIST, "invalid_utf8": NOT_IN_LIST}
"""A code, or an item of a multi-select: anything but one of the list's strings reads "choose from the list"."""


class FormSchema(Schema):
    """Unknown fields are refused; blank strings count as absent; dates are checked against birth.

    ``birth_date`` is the person's, when the case knows it; ``today`` is injectable for tests.
    """

    error_messages = {"unknown": N_("This field is not part of the form."), "type": N_("The form is not valid.")}

    class Meta:
        unknown = RAISE
        ordered = True

    def __init__(self, *, birth_date: date | None = None, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.birth_date = birth_date
        self.today = today or date.today()

    @pre_load
    def _blank_is_absent(self, data: Any, **_kwargs: Any) -> Any:
        """Also refuses, before any field reads them, characters no text may hold, naming each field."""
        if not isinstance(data, dict):
            return data
        unreadable = {
            str(key): [CONTROL_CHARACTERS]
            for key, value in data.items()
            if any(isinstance(item, str) and NOT_IN_TEXT.search(item) for item in _strings(value))
        }
        if unreadable:
            raise ValidationError(unreadable)
        return {key: value for key, value in data.items() if not (isinstance(value, str) and not value.strip())}

    def period(self, data: dict[str, Any], name: str) -> tuple[date, date] | None:
        """The first and last days a date field stands for, by its precision; None if not given."""
        value = data.get(name)
        if value is None:
            return None
        precision = data.get(self.fields[name].metadata.get("precision") or "", "Day")
        if precision == "Year":
            return date(value.year, 1, 1), date(value.year, 12, 31)
        if precision == "Month":
            return value.replace(day=1), value.replace(day=calendar.monthrange(value.year, value.month)[1])
        return value, value

    def may_lie_ahead(self, data: dict[str, Any]) -> bool:
        """Whether this form's dates may lie in the future, by what else it says (a planned service's may)."""
        return False

    def check_order(self, data: dict[str, Any], start: str, end: str) -> None:
        """Refuse an end that cannot be after its start, naming the end field."""
        first, last = self.period(data, start), self.period(data, end)
        if first and last and last[1] < first[0]:
            raise ValidationError({end: [END_BEFORE_START]})

    @validates_schema
    def _dates_are_plausible(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for name, f in self.fields.items():
            if not isinstance(f, fields.Date):
                continue
            precision_field = f.metadata.get("precision")
            precision = data.get(precision_field) if precision_field else None
            span = self.period(data, name)
            if span is not None and not (span[0] >= EARLIEST_DAY and span[1] <= LATEST_DAY):
                errors.setdefault(name, []).append(DAY_OUT_OF_RANGE)
            elif span is None:
                if precision not in (None, "Unknown"):
                    errors.setdefault(name, []).append(PRECISION_WITHOUT_DATE)
            elif precision_field and precision == "Unknown":
                errors.setdefault(precision_field, []).append(DATE_WITHOUT_PRECISION)
            elif f.metadata.get("anytime"):
                pass  # a planned date: past or future
            elif f.metadata.get("future"):
                if span[1] < self.today:
                    errors.setdefault(name, []).append(IN_THE_PAST)
            elif span[0] > self.today:
                if not self.may_lie_ahead(data):
                    errors.setdefault(name, []).append(IN_THE_FUTURE)
            elif self.birth_date and f.metadata.get("after_birth", True) and span[1] < self.birth_date:
                errors.setdefault(name, []).append(BEFORE_BIRTH)
        if errors:
            raise ValidationError(errors)

    @post_load
    def _periods_start_on_their_first_day(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for name, f in self.fields.items():
            precision_field = f.metadata.get("precision")
            if isinstance(f, fields.Date) and precision_field:
                span = self.period(data, name)
                data[precision_field] = data.get(precision_field) or ("Day" if span else "Unknown")
                if span:
                    data[name] = span[0]
        return data


def _strings(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def code(codelist: CodeList, *, required: bool = False) -> fields.String:
    return fields.String(required=required, validate=codelist.validator(), error_messages=_CHOICE)


class _Codes(fields.List):
    """A list of codes, each once: a code sent twice (a crafted form) is kept once, in its first place."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))


def codes(codelist: CodeList) -> fields.List:
    return _Codes(
        fields.String(error_messages={**_CHOICE, "null": NOT_IN_LIST}),
        load_default=list,
        validate=validate.ContainsOnly(codelist.values, error=NOT_IN_LIST),
        error_messages={**_BASIC, "invalid": NOT_IN_LIST},
    )


def text(max_length: int, *, required: bool = False) -> fields.String:
    return fields.String(
        required=required,
        validate=validate.Length(max=max_length, error=TOO_LONG),
        error_messages={**_BASIC, "invalid": TOO_LONG, "invalid_utf8": TOO_LONG},
    )


def day(
    *,
    required: bool = False,
    after_birth: bool = True,
    precision: str | None = None,
    future: bool = False,
    anytime: bool = False,
) -> fields.Date:
    """A date; ``precision`` names the field that says how precise it is (day, month, year).

    A ``future`` date is one being planned: today or later, instead of today or earlier.
    An ``anytime`` date (a plan's start or end) may lie on either side of today.
    """
    return fields.Date(
        required=required,
        error_messages={**_BASIC, "invalid": NOT_A_DATE, "format": NOT_A_DATE},
        metadata={"after_birth": after_birth, "precision": precision, "future": future, "anytime": anytime},
    )


def number(minimum: int, maximum: int, error: str, *, required: bool = False) -> fields.Integer:
    return fields.Integer(
        required=required,
        strict=False,
        validate=validate.Range(min=minimum, max=maximum, error=error),
        error_messages={**_BASIC, "invalid": NOT_A_NUMBER, "too_large": error},
    )


def decimal(minimum: float, maximum: float, error: str) -> fields.Float:
    return fields.Float(
        allow_nan=False,
        validate=validate.Range(min=minimum, max=maximum, error=error),
        error_messages={**_BASIC, "invalid": NOT_A_DECIMAL, "special": NOT_A_DECIMAL},
    )


AMBIGUOUS_AMOUNT = N_(
    "Write the amount without a thousands separator, and its decimals after the decimal sign, e.g. 1250.50."
)
_GROUPED = {".": re.compile(r"-?\d{1,3}(\.\d{3})+"), ",": re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")}


class Amount(fields.Decimal):
    """A ``Decimal`` typed as the reader writes numbers (1 250,50 in French, 1.250,50 in Spanish, 1,250.50
    in English) or as a form sends it (1250.50). What could be read two ways (1.250 in Spanish: a thousand
    and a quarter, or one and a quarter?) is refused, never guessed: money is not rounded by a thousand."""

    default_error_messages = {"ambiguous": AMBIGUOUS_AMOUNT}  # noqa: RUF012 - marshmallow's own convention

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = self._plain(re.sub(r"[\s\u00a0\u202f]", "", value))
        return super()._deserialize(value, attr, data, **kwargs)

    def _plain(self, text: str) -> str:
        locale = i18n.current_locale()
        decimal_sign, group_sign = get_decimal_symbol(locale), get_group_symbol(locale)
        if decimal_sign == ",":
            if "," in text:
                return (text.replace(".", "") if group_sign == "." else text).replace(",", ".")
            if group_sign == "." and _GROUPED["."].fullmatch(text):
                raise self.make_error("ambiguous")
            return text
        if "," in text:
            if not _GROUPED[","].fullmatch(text):
                raise self.make_error("invalid")
            return text.replace(",", "")
        return text


def amount(*, required: bool = False) -> fields.Decimal:
    """An amount of money: a ``Decimal`` above zero and below :data:`money.MAX_AMOUNT`, typed as the reader
    writes numbers (:class:`Amount`).

    Its decimals depend on its currency: a schema with both calls :func:`check_money`.
    """
    return Amount(
        required=required,
        allow_nan=False,
        validate=validate.Range(
            min=0, max=money.MAX_AMOUNT, min_inclusive=False, max_inclusive=False, error=AMOUNT_RANGE
        ),
        error_messages={**_BASIC, "invalid": NOT_AN_AMOUNT, "special": NOT_AN_AMOUNT},
    )


def currency(*, required: bool = False) -> fields.String:
    """An ISO 4217 code among :func:`money.currencies`."""
    return fields.String(
        required=required,
        validate=validate.OneOf(money.currencies(), error=UNKNOWN_CURRENCY),
        error_messages={**_BASIC, "invalid": UNKNOWN_CURRENCY, "invalid_utf8": UNKNOWN_CURRENCY},
    )


def decimals_errors(amount: Decimal, currency: str, field: str = "amount") -> dict[str, list[str]]:
    """The refusal of an amount with more decimals than its currency has, naming ``field``; empty when it fits.

    The one place this refusal is written: a schema raises it as a ``ValidationError``, a use case as
    its ``Invalid`` (``if errors := decimals_errors(...): raise Invalid(errors)``), or adds it to its own.
    """
    if money.fits(amount, currency):
        return {}
    return {field: [TOO_MANY_DECIMALS[money.decimals(currency)]]}


def check_money(data: dict[str, Any], amount_field: str, currency_field: str) -> None:
    """Refuse, naming the amount, more decimals than the amount's currency has (call from a ``validates_schema``)."""
    value, code = data.get(amount_field), data.get(currency_field)
    if value is not None and code is not None and (errors := decimals_errors(value, code, amount_field)):
        raise ValidationError(errors)


def flag() -> fields.Boolean:
    return fields.Boolean(load_default=False, error_messages={**_BASIC, "invalid": N_("Choose yes or no.")})


def version() -> fields.Integer:
    """The case version the form was read at: a stale one means someone else saved meanwhile.

    Bounded as the column it is compared with, so that no query ever carries a number beyond it.
    """
    return fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=-(2**31), max=2**31 - 1, error=NOT_A_NUMBER),  # else only stale
        error_messages={**_BASIC, "invalid": NOT_A_NUMBER, "too_large": NOT_A_NUMBER},
    )
