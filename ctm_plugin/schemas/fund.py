"""The emergency fund's forms: a mission's request for a case, HQ's top-ups, decisions, the fund's currency and
largest request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, validate, validates_schema

from ctm_plugin.codelists import labelled, reintegration
from ctm_plugin.domain.fund import APPROVED, REJECTED, REQUESTED
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import (
    _BASIC,
    NOT_A_DECIMAL,
    REQUIRED,
    Amount,
    FormSchema,
    amount,
    check_money,
    code,
    currency,
    day,
    text,
    version,
)

APPROVE = "approve"
APPROVE_LESS = "approve_less"
REJECT = "reject"
DECISION = labelled(
    "fund_decision",
    [(APPROVE, N_("Approve the amount requested")), (APPROVE_LESS, N_("Approve less")), (REJECT, N_("Reject"))],
)

STATE = labelled(
    "fund_request_state",
    [(REQUESTED, N_("Requested")), (APPROVED, N_("Approved")), (REJECTED, N_("Rejected"))],
)

RATE_RANGE = N_("Enter a rate greater than zero and below 1,000,000.")
MAX_RATE = Decimal(1_000_000)
RATE_DECIMALS = 8


def _rate_fits(value: Decimal) -> bool:
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= RATE_DECIMALS


TOO_PRECISE_RATE = N_("A rate has at most 8 decimals.")


class FundRequestSchema(FormSchema):
    """A request for a case: what for, how much in which currency, and why (no name: the fund sees no identity)."""

    kind = code(reintegration.EMERGENCY_KIND, required=True)
    amount = amount(required=True)
    currency = currency(required=True)
    justification = text(2000, required=True)
    version = version()

    @validates_schema
    def _money(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_money(data, "amount", "currency")


class TopUpSchema(FormSchema):
    """Money given to the fund, in the fund's currency, by a donor under one of its projects."""

    amount = amount(required=True)
    donor = text(120, required=True)
    project_code = text(40, required=True)
    on_date = day(required=True)
    reference = text(80)


class FundDecisionSchema(FormSchema):
    """HQ's decision on one request; ``amount`` (approving less) is in the request's currency, ``exchange_rate``
    (a request in another currency than the fund's) is the fund's currency per unit of the request's."""

    decision = code(DECISION, required=True)
    amount = amount()
    exchange_rate = Amount(
        allow_nan=False,
        validate=validate.Range(min=0, max=MAX_RATE, min_inclusive=False, max_inclusive=False, error=RATE_RANGE),
        error_messages={**_BASIC, "invalid": NOT_A_DECIMAL, "special": NOT_A_DECIMAL},
    )
    reason = text(2000)
    version = version()

    @validates_schema
    def _what_each_decision_needs(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        decision = data.get("decision")
        if decision == APPROVE_LESS and data.get("amount") is None:
            errors["amount"] = [N_("Give the amount approved.")]
        if decision in (APPROVE_LESS, REJECT) and not data.get("reason"):
            errors["reason"] = [REQUIRED]
        rate = data.get("exchange_rate")
        if rate is not None and not _rate_fits(rate):
            errors["exchange_rate"] = [TOO_PRECISE_RATE]
        if errors:
            raise ValidationError(errors)


class FundCurrencySchema(FormSchema):
    currency = currency(required=True)


class FundLimitSchema(FormSchema):
    """The largest request the fund takes, in its currency: the most one approval takes from it."""

    max_request = amount(required=True)
