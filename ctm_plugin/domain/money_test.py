from decimal import Decimal

import pytest

from ctm_plugin.domain import money


def test_currencies_are_current_iso_codes_without_the_x_codes() -> None:
    codes = money.currencies()
    assert {"USD", "THB", "KHR", "JPY", "KWD", "EUR"} <= set(codes)
    assert not [c for c in codes if c.startswith("X")]
    assert list(codes) == sorted(codes)


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [
        ("100", "JPY", True),
        ("100.5", "JPY", False),
        ("100.00", "JPY", True),
        ("12.34", "USD", True),
        ("12.345", "USD", False),
        ("1.234", "KWD", True),
        ("1.2345", "KWD", False),
    ],
)
def test_an_amount_fits_its_currencys_decimals(amount: str, currency: str, ok: bool) -> None:
    assert money.fits(Decimal(amount), currency) is ok


def test_totals_never_add_two_currencies() -> None:
    pairs = [(Decimal("10.50"), "USD"), (Decimal("1000"), "THB"), (Decimal("0.25"), "USD")]
    assert money.totals(pairs) == {"THB": Decimal("1000"), "USD": Decimal("10.75")}


def test_amounts_are_shown_in_the_readers_language() -> None:
    assert money.shown(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    assert money.shown(Decimal("1234.5"), "USD", "fr") == "1\u202f234,50\xa0$US"
