"""Dates with a precision stand for their whole period: checked by its first and last days."""

from datetime import date
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from ctm_plugin.schemas.base import TOO_MANY_DECIMALS, check_money, decimals_errors
from ctm_plugin.schemas.process import EventSchema

TODAY = date(2026, 11, 28)
BIRTH = date(1990, 6, 15)


def load(data: dict, birth: date | None = BIRTH) -> dict:
    return EventSchema(birth_date=birth, today=TODAY).load({"version": "1", "type": "Transit", **data})


def errors(data: dict, birth: date | None = BIRTH) -> dict:
    with pytest.raises(ValidationError) as caught:
        load(data, birth)
    return caught.value.normalized_messages()


def test_a_year_is_not_before_a_birth_in_that_year():
    loaded = load({"start_date": "1990-01-01", "start_precision": "Year"})
    assert (loaded["start_date"], loaded["start_precision"]) == (date(1990, 1, 1), "Year")
    assert errors({"start_date": "1989-12-31", "start_precision": "Year"}) == {
        "start_date": ["The date cannot be before the person's birth date."]
    }


def test_an_end_known_to_the_year_may_follow_a_start_known_to_the_day():
    loaded = load({"start_date": "2025-05-10", "end_date": "2025-01-01", "end_precision": "Year"})
    assert loaded["end_date"] == date(2025, 1, 1)
    assert errors({"start_date": "2025-05-10", "end_date": "2025-04-30", "end_precision": "Day"}) == {
        "end_date": ["The end cannot be before the start."]
    }


def test_this_month_or_year_is_not_in_the_future_even_entered_as_its_last_day():
    assert load({"start_date": "2026-12-31", "start_precision": "Year"})["start_date"] == date(2026, 1, 1)
    assert load({"start_date": "2026-11-30", "start_precision": "Month"})["start_date"] == date(2026, 11, 1)
    assert errors({"start_date": "2026-12-01", "start_precision": "Month"}) == {
        "start_date": ["The date cannot be in the future."]
    }


def test_a_date_needs_a_known_precision_and_a_precision_needs_a_date():
    assert errors({"start_date": "2020-01-01", "start_precision": "Unknown"}) == {
        "start_precision": ["Say how precise the date is."]
    }
    assert errors({"end_precision": "Month"}) == {"end_date": ["Give the date, or set its precision to unknown."]}
    assert load({})["start_precision"] == "Unknown"
    assert load({"start_date": "2020-03-04"})["start_precision"] == "Day"


def test_without_a_birth_date_to_check_against_early_dates_pass():
    # A user without the identity permission gets no birth date check: it would reveal the date.
    assert load({"start_date": "1970-01-01"}, birth=None)["start_date"] == date(1970, 1, 1)


def test_the_one_refusal_of_too_many_decimals_names_its_field():
    assert decimals_errors(Decimal("12.50"), "USD") == {}
    assert decimals_errors(Decimal("12.500"), "USD") == {}  # trailing zeros do not count
    assert decimals_errors(Decimal("1.5"), "JPY", "budget") == {"budget": [TOO_MANY_DECIMALS[0]]}
    assert decimals_errors(Decimal("1.2345"), "KWD") == {"amount": [TOO_MANY_DECIMALS[3]]}
    with pytest.raises(ValidationError) as refused:
        check_money({"budget": Decimal("1.234"), "currency": "USD"}, "budget", "currency")
    assert refused.value.messages == {"budget": [TOO_MANY_DECIMALS[2]]}
