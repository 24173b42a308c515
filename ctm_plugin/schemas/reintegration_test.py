"""The reintegration forms: money in its currency's decimals, planned dates in order, reasons where
a decision needs one, bounds as the columns hold them, every message translated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ctm_plugin.schemas import reintegration
from ctm_plugin.schemas.base import (
    AMOUNT_RANGE,
    DAY_OUT_OF_RANGE,
    END_BEFORE_START,
    IN_THE_FUTURE,
    NOT_AN_AMOUNT,
    NOT_IN_LIST,
    REQUIRED,
    TOO_LONG,
    UNKNOWN_CURRENCY,
)
from ctm_plugin.schemas.reintegration import (
    AgreePlanSchema,
    DisbursementDecisionSchema,
    DisbursementSchema,
    ElementSchema,
    PaymentSchema,
    PeriodSchema,
    ReversalSchema,
)
from ctm_plugin.schemas.testing import TODAY, errors_for, load, refused_messages, untranslated

SCHEMAS = (
    AgreePlanSchema,
    ElementSchema,
    DisbursementSchema,
    DisbursementDecisionSchema,
    PaymentSchema,
    ReversalSchema,
    PeriodSchema,
)

VALID = {
    AgreePlanSchema: {"version": "2", "agreed_on": "2026-06-01"},
    ElementSchema: {
        "version": "2",
        "type": "SelfEmployment",
        "objective": "A small grocery stall.",
        "provider": "NGO: KHM Hope Foundation",
        "start_on": "2026-07-01",
        "end_on": "2027-06-30",
        "budget": "1250.50",
        "currency": "USD",
        "status": "Planned",
        "status_reason": "",
    },
    DisbursementSchema: {
        "version": "2",
        "amount": "300",
        "project_code": "KHM-CT-01",
        "payee": "Provider",
        "purpose": "Stock.",
    },
    DisbursementDecisionSchema: {"version": "2", "decision": "approve", "reason": "", "override_reason": ""},
    PaymentSchema: {
        "version": "2",
        "paid_on": "2026-06-10",
        "payment_method": "MobileMoney",
        "receipt_reference": "RC-12",
        "payee": "Person",
    },
    ReversalSchema: {"version": "2", "reason": "Entered twice."},
    PeriodSchema: {"from_on": "2026-01-01", "to_on": "2026-12-31"},
}


def test_valid_forms_load_into_typed_values():
    element = load(ElementSchema, VALID[ElementSchema])
    assert element["budget"] == Decimal("1250.50") and element["end_on"] == date(2027, 6, 30)  # planned: in the future
    assert load(DisbursementDecisionSchema, VALID[DisbursementDecisionSchema])["override"] is False
    assert load(PeriodSchema, VALID[PeriodSchema])["to_on"] == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (ElementSchema, "budget", "10.555", "This currency has at most 2 decimals."),
        (ElementSchema, "budget", "0", AMOUNT_RANGE),
        (ElementSchema, "budget", "-1", AMOUNT_RANGE),
        (ElementSchema, "budget", "999999999999", AMOUNT_RANGE),
        (ElementSchema, "budget", "Infinity", NOT_AN_AMOUNT),
        (ElementSchema, "currency", "EURO", UNKNOWN_CURRENCY),
        (ElementSchema, "type", "Holiday", NOT_IN_LIST),
        (ElementSchema, "status", "Paused", NOT_IN_LIST),
        (ElementSchema, "objective", "x" * 4001, TOO_LONG),
        (ElementSchema, "provider", "x" * 161, TOO_LONG),
        (ElementSchema, "end_on", "2026-06-30", END_BEFORE_START),
        (ElementSchema, "end_on", "9999-12-31", DAY_OUT_OF_RANGE),  # a day beyond any timestamp's reach
        (PeriodSchema, "to_on", "9999-12-31", DAY_OUT_OF_RANGE),  # the donors' report's last day ends at 00:00 after it
        (PeriodSchema, "from_on", "0001-01-01", DAY_OUT_OF_RANGE),
        (DisbursementSchema, "amount", "0.001", None),
        (DisbursementSchema, "project_code", "x" * 41, TOO_LONG),
        (DisbursementSchema, "payee", "Anyone", NOT_IN_LIST),
        (DisbursementDecisionSchema, "decision", "maybe", NOT_IN_LIST),
        (PaymentSchema, "payment_method", "Cheque", NOT_IN_LIST),
        (PaymentSchema, "receipt_reference", "x" * 61, TOO_LONG),
        (PaymentSchema, "paid_on", "2026-06-16", IN_THE_FUTURE),
        (AgreePlanSchema, "agreed_on", "2026-06-16", IN_THE_FUTURE),
        (PeriodSchema, "to_on", "2025-12-31", END_BEFORE_START),
    ],
)
def test_each_bound_is_where_the_column_is_and_a_refusal_names_the_field(schema, field, value, message):
    if message is None:  # the request's decimals are judged in the element's currency, by the use case
        assert load(schema, {**VALID[schema], field: value})[field] == Decimal(value)
    else:
        assert refused_messages(VALID, schema, field, value) == {message}


def test_a_cancelled_element_a_rejection_and_an_override_each_need_their_reason():
    cancelled = {**VALID[ElementSchema], "status": "Cancelled"}
    assert errors_for(ElementSchema, cancelled) == {"status_reason": [reintegration.CANCELLED_WITHOUT_REASON]}
    rejected = {**VALID[DisbursementDecisionSchema], "decision": "reject"}
    assert errors_for(DisbursementDecisionSchema, rejected) == {"reason": [reintegration.REJECTED_WITHOUT_REASON]}
    override = {**VALID[DisbursementDecisionSchema], "override": "y"}
    without_reason = {"override_reason": [reintegration.OVERRIDE_WITHOUT_REASON]}
    assert errors_for(DisbursementDecisionSchema, override) == without_reason


def test_the_period_may_reach_beyond_today():
    assert load(PeriodSchema, {"from_on": TODAY.isoformat(), "to_on": "2026-12-31"})["from_on"] == TODAY


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        (AgreePlanSchema, {"version", "agreed_on"}),
        (
            ElementSchema,
            {"version", "type", "objective", "provider", "start_on", "end_on", "budget", "currency", "status"},
        ),
        (DisbursementSchema, {"version", "amount", "project_code", "payee", "purpose"}),
        (DisbursementDecisionSchema, {"version", "decision"}),
        (PaymentSchema, {"version", "paid_on", "payment_method", "receipt_reference", "payee"}),
        (ReversalSchema, {"version", "reason"}),
        (PeriodSchema, {"from_on", "to_on"}),
    ],
)
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_reintegration_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, reintegration, SCHEMAS, VALID)
    assert UNKNOWN_CURRENCY in produced
    assert missing == set()


def test_an_elements_errors_are_said_all_at_once():
    wrong = {**VALID[ElementSchema], "budget": "12.345", "end_on": "2026-03-01", "status": "Cancelled"}
    wrong["start_on"] = "2026-04-01"
    assert set(errors_for(ElementSchema, wrong)) == {"budget", "end_on", "status_reason"}
    wrong["budget"] = "ten"  # a field's own error, and the others beside it
    assert set(errors_for(ElementSchema, wrong)) == {"budget", "end_on", "status_reason"}
