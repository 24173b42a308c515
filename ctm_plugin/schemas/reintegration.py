"""The reintegration plan's forms and its money's: the agreement, an element, a disbursement's
request, its approval or rejection, its payment, a reversal, and the period of the donors' report.

Each bounded as its columns are; a provider and a project code are checked against the mission's
settings by the use case (the schema does not know the mission).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from ctm_plugin.codelists.reintegration import ELEMENT_STATUS, PAYMENT_METHOD, PLAN_ELEMENT
from ctm_plugin.domain.reintegration import PAYEES
from ctm_plugin.i18n import N_

from .base import FormSchema, amount, check_money, code, currency, day, flag, text, version
from .preparation import choice

DECISIONS = {"approve": N_("Approve"), "reject": N_("Reject")}
CANCELLED_WITHOUT_REASON = N_("Say why the element is cancelled.")
REJECTED_WITHOUT_REASON = N_("Say why the request is rejected.")
OVERRIDE_WITHOUT_REASON = N_("Say why the budget may be exceeded.")


class AgreePlanSchema(FormSchema):
    """The day the person agreed the plan (not in the future); the user who records it is the one logged in."""

    version = version()
    agreed_on = day(required=True)


class ElementSchema(FormSchema):
    """An element of the plan, added or changed."""

    version = version()
    type = code(PLAN_ELEMENT, required=True)
    objective = text(4000, required=True)
    provider = text(160, required=True)
    """``kind: name``, one of the mission's providers (checked by the use case)."""
    start_on = day(required=True, anytime=True, after_birth=False)
    end_on = day(required=True, anytime=True, after_birth=False)
    budget = amount(required=True)
    currency = currency(required=True)
    status = code(ELEMENT_STATUS, required=True)
    status_reason = text(4000)

    @validates_schema(skip_on_field_errors=False)  # said with the fields' own errors, all at once
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for check in (
            lambda: check_money(data, "budget", "currency"),
            lambda: self.check_order(data, "start_on", "end_on"),
        ):
            try:
                check()
            except ValidationError as refused:
                errors.update(refused.normalized_messages())
        if data.get("status") == "Cancelled" and not data.get("status_reason"):
            errors["status_reason"] = [CANCELLED_WITHOUT_REASON]
        if errors:
            raise ValidationError(errors)


class DisbursementSchema(FormSchema):
    """A caseworker's request against an element, in the element's currency (the use case checks the decimals)."""

    version = version()
    amount = amount(required=True)
    project_code = text(40, required=True)
    payee = choice(PAYEES, required=True)
    purpose = text(4000, required=True)


class DisbursementDecisionSchema(FormSchema):
    """The approver's decision; going beyond the element's budget takes an explicit override with its reason."""

    version = version()
    decision = choice(DECISIONS, required=True)
    reason = text(4000)
    override = flag()
    override_reason = text(4000)

    @validates_schema(skip_on_field_errors=False)
    def _reasons(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors = {}
        if data.get("decision") == "reject" and not data.get("reason"):
            errors["reason"] = [REJECTED_WITHOUT_REASON]
        if data.get("override") and not data.get("override_reason"):
            errors["override_reason"] = [OVERRIDE_WITHOUT_REASON]
        if errors:
            raise ValidationError(errors)


class PaymentSchema(FormSchema):
    """The payment of an approved disbursement: when, how, the receipt, to whom."""

    version = version()
    paid_on = day(required=True, after_birth=False)
    payment_method = code(PAYMENT_METHOD, required=True)
    receipt_reference = text(60, required=True)
    payee = choice(PAYEES, required=True)


class ReversalSchema(FormSchema):
    """A ledger entry taken back, with the reason (the entry itself is never changed)."""

    version = version()
    reason = text(4000, required=True)


class PeriodSchema(FormSchema):
    """The period of the donors' report: from and to, both days included."""

    from_on = day(required=True, anytime=True, after_birth=False)
    to_on = day(required=True, anytime=True, after_birth=False)

    @validates_schema
    def _order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "from_on", "to_on")
