"""The return checklist's forms: the caseworker's checklist, a child's best-interests
determination, and HQ's decision on a high-risk return. Each bounded as its columns are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ctm_plugin.codelists import geo
from ctm_plugin.domain.preparation import BID_OUTCOMES, DOCUMENT_KINDS, FAMILY_ASSESSMENTS, RISK_DECISIONS, RISK_LEVELS
from ctm_plugin.i18n import N_

from .base import _CHOICE, NOT_IN_IDENTIFIER, NOT_IN_LIST, REQUIRED, FormSchema, code, day, flag, text, version
from .returns import ESCORTS

DOCUMENT_FIELDS = ("document_kind", "document_number", "document_expiry")
"""The travel document: identity fields, in a form only for users who may see them."""
NOT_A_DOCUMENT_NUMBER = N_("Enter the document number: up to 40 characters, no control characters.")
NAMED_BUT_NO_ESCORT = N_("No escort is chosen: leave the escort's name empty, or choose the escort need.")


def choice(options: Mapping[str, str] | tuple[str, ...], *, required: bool = False) -> fields.String:
    return fields.String(
        required=required, validate=validate.OneOf(tuple(options), error=NOT_IN_LIST), error_messages=_CHOICE
    )


def _document_number(value: str) -> None:
    if NOT_IN_IDENTIFIER.search(value):
        raise ValidationError(NOT_A_DOCUMENT_NUMBER)


class ChecklistSchema(FormSchema):
    """The caseworker's checklist; the travel document only in the identity group's form."""

    version = version()
    planned_departure = day(after_birth=False, future=True)
    destination_country = code(geo.COUNTRY)
    counselled_on = day()
    document_kind = choice(DOCUMENT_KINDS)
    document_number = fields.String(
        validate=[validate.Length(min=1, max=40, error=NOT_A_DOCUMENT_NUMBER), _document_number],
        error_messages={"required": REQUIRED, "null": REQUIRED, "invalid": NOT_A_DOCUMENT_NUMBER},
    )
    document_expiry = day(after_birth=False, future=True)
    fit_to_travel = flag()
    escort = choice(ESCORTS)
    escort_name = text(120)
    risk_level = choice(RISK_LEVELS)
    risk_reason = text(4000)
    family_traced = flag()
    family_assessment = choice(FAMILY_ASSESSMENTS)
    alternative_care = text(4000)
    signs_of_minority = flag()

    @validates_schema
    def _together(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """A document is its kind, number and expiry; a risk level comes with its reason; no escort has no name."""
        errors: dict[str, list[str]] = {}
        if any(data.get(name) for name in DOCUMENT_FIELDS):
            errors.update({name: [REQUIRED] for name in DOCUMENT_FIELDS if name in self.fields and not data.get(name)})
        if data.get("risk_level") and not data.get("risk_reason"):
            errors["risk_reason"] = [N_("Give the reason for the risk level.")]
        if data.get("escort") == "NONE" and data.get("escort_name"):
            errors["escort_name"] = [NAMED_BUT_NO_ESCORT]
        if errors:
            raise ValidationError(errors)


class BestInterestsSchema(FormSchema):
    """A child's best-interests determination, by a child-protection officer."""

    version = version()
    bid_outcome = choice(BID_OUTCOMES, required=True)
    bid_on = day(required=True)
    bid_reason = text(4000, required=True)


class RiskDecisionSchema(FormSchema):
    """HQ's decision on a high-risk return."""

    version = version()
    risk_decision = choice(RISK_DECISIONS, required=True)
    risk_decision_reason = text(4000, required=True)
