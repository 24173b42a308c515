"""Money: a ``Decimal`` amount with its ISO 4217 currency, never a float, never summed across currencies.

A currency's decimals are Babel's (CLDR's reading of ISO 4217); the currencies offered are the
current ISO 4217 ones pycountry lists, less the X codes (gold, SDRs, testing, "no currency").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from functools import cache

import pycountry
import sqlalchemy as sa
from babel.numbers import format_currency, get_currency_precision

MAX_AMOUNT = Decimal("1000000000")
"""An amount at or above a thousand million in any currency is a typing mistake, not a payment."""
AMOUNT = sa.Numeric(18, 4)
"""The column every amount is kept in: 13 digits before the point, the most decimals a currency has (4)."""
CURRENCY = sa.String(3)


@cache
def currencies() -> tuple[str, ...]:
    """The ISO 4217 codes an amount may be in, sorted."""
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies if not c.alpha_3.startswith("X")))


def decimals(currency: str) -> int:
    """How many decimals the currency's amounts may have (JPY 0, USD 2, KWD 3)."""
    return int(get_currency_precision(currency))


def fits(amount: Decimal, currency: str) -> bool:
    """Whether the amount has no more decimals than the currency allows (trailing zeros do not count)."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= decimals(currency)


def shown(amount: Decimal, currency: str, locale: str) -> str:
    """The amount as the reader's language writes it, with the currency's own decimals."""
    return format_currency(amount, currency, locale=locale, currency_digits=True)


def totals(pairs: Iterable[tuple[Decimal, str]]) -> dict[str, Decimal]:
    """Sums per currency, currencies in alphabetical order: two currencies are never added together."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in pairs:
        sums[currency] += amount
    return dict(sorted(sums.items()))
