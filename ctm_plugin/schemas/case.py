"""Schemas for the case itself: opening, the person's profile, the victim context, closing."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ctm_plugin.codelists import geo, htcds, process
from ctm_plugin.codelists.closure import CLOSURE_REASON
from ctm_plugin.i18n import N_

from .base import NOT_IN_LIST, REQUIRED, FormSchema, code, codes, day, flag, number, text, version

CLOSED_STATUSES = ("Closed", "ClosedReferred")


class OpenCaseSchema(FormSchema):
    opened_on = day(required=True, after_birth=False)


class PersonSchema(FormSchema):
    version = version()
    gender = code(htcds.GENDER)
    marital_status = code(htcds.MARITAL_STATUS)
    education = code(htcds.EDUCATION)
    languages = codes(geo.LANGUAGE)
    citizenships = codes(geo.COUNTRY)
    number_of_children = number(0, 30, N_("Enter a number from 0 to 30."))
    birth_date = day(after_birth=False, precision="birth_date_precision")  # type: ignore[assignment]  # a marshmallow field, not FormSchema.birth_date
    birth_date_precision = code(process.DATE_PRECISION)


class VictimContextSchema(FormSchema):
    version = version()
    trafficking_status = code(htcds.TRAFFICKING_STATUS)
    status_decided_by = code(htcds.DECIDING_ORGANISATION)
    age_first_trafficked = number(0, 120, N_("Enter an age from 0 to 120."))
    recruitment_methods = codes(htcds.RECRUITMENT_METHOD)
    control_methods = codes(htcds.CONTROL_METHOD)
    exploitation_types = codes(htcds.EXPLOITATION_TYPE)
    labour_industry = code(htcds.LABOUR_INDUSTRY)
    sexual_exploitation_types = codes(htcds.SEXUAL_EXPLOITATION_TYPE)
    recruiter_relationship = code(htcds.RECRUITER_RELATIONSHIP)

    @validates_schema
    def _status_needs_who_decided(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("trafficking_status") == "ActualVictimOfTrafficking" and not data.get("status_decided_by"):
            raise ValidationError({"status_decided_by": [N_("Say which kind of organisation decided the status.")]})


class CloseCaseSchema(FormSchema):
    version = version()
    status = fields.String(
        required=True,
        validate=validate.OneOf(CLOSED_STATUSES, error=NOT_IN_LIST),
        error_messages={"required": REQUIRED, "null": REQUIRED, "invalid": NOT_IN_LIST, "invalid_utf8": NOT_IN_LIST},
    )
    close_reason = code(CLOSURE_REASON, required=True)
    closed_on = day(required=True, after_birth=False)
    reason = text(2000)
    confirmed = flag()
    """The page's confirmation step: only a confirmed form closes (the page checks it, not the use case)."""

    @validates_schema
    def _other_says_why(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("close_reason") == "Other" and not data.get("reason"):
            raise ValidationError({"reason": [N_("Say why the case is closed.")]})


class ReopenCaseSchema(FormSchema):
    version = version()
    reason = text(2000, required=True)


APPROVE, REFUSE = "approve", "refuse"


class ClosureDecisionSchema(FormSchema):
    """A supervisor's answer to a request to close a case; a refusal says why."""

    version = version()
    decision = fields.String(
        required=True,
        validate=validate.OneOf((APPROVE, REFUSE), error=NOT_IN_LIST),
        error_messages={"required": REQUIRED, "null": REQUIRED, "invalid": NOT_IN_LIST, "invalid_utf8": NOT_IN_LIST},
    )
    refusal = text(2000)

    @validates_schema
    def _refusal_says_why(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("decision") == REFUSE and not data.get("refusal"):
            raise ValidationError({"refusal": [N_("Say why the case stays open.")]})


class ReassignSchema(FormSchema):
    """The case's new owner: a username the page offers from the mission's caseworkers."""

    version = version()
    owner = text(80, required=True)


class ReassignAllSchema(FormSchema):
    """Every open case of one caseworker to another (staff leave)."""

    from_owner = text(80, required=True)
    to_owner = text(80, required=True)
    confirmed = flag()
    """The page's confirmation step: only a confirmed form moves the cases."""
