"""Amounts and currencies as every money form reads them: the field is named, nothing is guessed."""

from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError, validates_schema

from ctm_plugin.schemas.base import AMBIGUOUS_AMOUNT, FormSchema, amount, check_money, currency
from ctm_plugin.testing import in_locale


class PaymentForm(FormSchema):
    amount = amount(required=True)
    currency = currency(required=True)

    @validates_schema
    def _decimals(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_money(data, "amount", "currency")


def errors(data: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        PaymentForm().load(data)
    return caught.value.normalized_messages()


def test_an_amount_is_a_decimal_in_its_currency() -> None:
    assert PaymentForm().load({"amount": "1250.50", "currency": "USD"}) == {
        "amount": Decimal("1250.50"),
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("10.5", "JPY", "This currency has no decimals: enter a whole amount."),
        ("10.555", "USD", "This currency has at most 2 decimals."),
        ("1.2345", "KWD", "This currency has at most 3 decimals."),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused_on_the_amount(
    amount: str, currency: str, message: str
) -> None:
    assert errors({"amount": amount, "currency": currency}) == {"amount": [message]}


@pytest.mark.parametrize("value", ["-5", "0", "1000000000", "1e12"])
def test_negative_zero_and_absurd_amounts_are_refused(value: str) -> None:
    assert errors({"amount": value, "currency": "USD"}) == {
        "amount": ["Enter an amount greater than zero and below 1,000,000,000."]
    }


@pytest.mark.parametrize("value", ["NaN", "Infinity", "ten", "1,5,0"])
def test_what_is_not_a_number_is_refused(value: str) -> None:
    assert errors({"amount": value, "currency": "USD"}) == {"amount": ["Enter an amount, e.g. 1250.50."]}


@pytest.mark.parametrize("value", ["usd", "ABC", "XAU", "US"])
def test_unknown_currencies_are_refused(value: str) -> None:
    assert errors({"amount": "10", "currency": value}) == {"currency": ["Choose a currency from the list."]}


@pytest.mark.parametrize(
    ("locale", "typed", "read"),
    [
        ("en", "1,250.50", "1250.50"),
        ("en", "1250.50", "1250.50"),
        ("fr", "1\u202f250,50", "1250.50"),
        ("fr", "1 250,5", "1250.5"),
        ("fr", "12,5", "12.5"),
        ("fr", "1250.50", "1250.50"),  # as a form or a number input sends it
        ("es", "1.250,50", "1250.50"),
        ("es", "12,5", "12.5"),
        ("es", "1250.5", "1250.5"),
    ],
)
def test_an_amount_is_read_as_the_reader_writes_numbers(locale: str, typed: str, read: str) -> None:
    with in_locale(locale):
        assert PaymentForm().load({"amount": typed, "currency": "USD"})["amount"] == Decimal(read)


@pytest.mark.parametrize(("locale", "typed"), [("es", "1.250"), ("es", "12.500.000")])
def test_an_amount_that_reads_two_ways_is_refused_not_guessed(locale: str, typed: str) -> None:
    with in_locale(locale), pytest.raises(ValidationError) as caught:
        PaymentForm().load({"amount": typed, "currency": "USD"})
    assert caught.value.normalized_messages() == {"amount": [AMBIGUOUS_AMOUNT]}


@pytest.mark.parametrize("typed", ["1,5", "12,34,5"])
def test_an_english_comma_is_only_a_thousands_separator(typed: str) -> None:
    assert errors({"amount": typed, "currency": "USD"}) == {"amount": ["Enter an amount, e.g. 1250.50."]}
