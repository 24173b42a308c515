"""The emergency fund's forms: money with its currency's decimals, what each decision needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from ctm_plugin.schemas.fund import (
    TOO_PRECISE_RATE,
    FundCurrencySchema,
    FundDecisionSchema,
    FundRequestSchema,
    TopUpSchema,
)

VALID: dict[type[Schema], dict[str, Any]] = {
    FundRequestSchema: {
        "version": "1",
        "kind": "Medical",
        "amount": "1200.50",
        "currency": "USD",
        "justification": "Surgery.",
    },
    TopUpSchema: {"amount": "1000", "donor": "ECHO", "project_code": "GEF-1", "on_date": "2026-02-03"},
    FundDecisionSchema: {"version": "1", "decision": "approve_less", "amount": "10", "reason": "Part is covered."},
    FundCurrencySchema: {"currency": "EUR"},
}


def errors(schema: type[Schema], **changes: Any) -> dict[str, Any]:
    try:
        schema().load({**VALID[schema], **changes})
    except ValidationError as refused:
        return refused.normalized_messages()
    return {}


@pytest.mark.parametrize("schema", list(VALID), ids=lambda s: s.__name__)
def test_the_valid_forms_load(schema: type[Schema]) -> None:
    assert errors(schema) == {}


def test_amounts_are_decimals_with_their_currencys_decimals() -> None:
    loaded = FundRequestSchema().load(VALID[FundRequestSchema])
    assert loaded["amount"] == Decimal("1200.50") and isinstance(loaded["amount"], Decimal)
    assert errors(FundRequestSchema, amount="5.5", currency="JPY") == {
        "amount": ["This currency has no decimals: enter a whole amount."]
    }
    assert errors(FundRequestSchema, amount="5.555", currency="KWD") == {}
    assert list(errors(FundRequestSchema, currency="ZZZ")) == ["currency"]


def test_each_decision_asks_for_what_it_needs() -> None:
    assert errors(FundDecisionSchema, decision="approve", amount="", reason="") == {}
    assert list(errors(FundDecisionSchema, amount="")) == ["amount"]
    assert list(errors(FundDecisionSchema, reason="")) == ["reason"]
    assert list(errors(FundDecisionSchema, decision="reject", reason="")) == ["reason"]
    assert errors(FundDecisionSchema, exchange_rate="0.123456789") == {"exchange_rate": [TOO_PRECISE_RATE]}
    assert list(errors(FundDecisionSchema, exchange_rate="0")) == ["exchange_rate"]
