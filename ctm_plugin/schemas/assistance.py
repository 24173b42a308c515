"""Schemas for assistance services, consent and referrals."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from ctm_plugin.codelists import htcds, process
from ctm_plugin.i18n import N_

from .base import FormSchema, code, codes, day, flag, text, version


class ServiceSchema(FormSchema):
    version = version()
    type = code(htcds.SERVICE_TYPE, required=True)
    provider = text(120, required=True)
    provider_type = code(htcds.ORGANISATION_TYPE)
    start_date = day()
    end_date = day()
    status = code(process.SERVICE_STATUS, required=True)
    notes = text(4000)

    def may_lie_ahead(self, data: dict[str, Any]) -> bool:
        """A planned service's dates may lie ahead; one under way, completed or cancelled has happened."""
        return data.get("status") == "Planned"

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "start_date", "end_date")
        errors: dict[str, list[str]] = {}
        if data.get("status") in ("Ongoing", "Completed") and not data.get("start_date"):
            errors["start_date"] = [N_("A service under way or completed needs its start date.")]
        if data.get("status") == "Completed" and not data.get("end_date"):
            errors["end_date"] = [N_("A completed service needs its end date.")]
        if errors:
            raise ValidationError(errors)


class ConsentSchema(FormSchema):
    version = version()
    purpose = code(process.CONSENT_PURPOSE, required=True)
    items = codes(process.CONSENT_ITEM)
    given_on = day(required=True)
    method = code(process.CONSENT_METHOD, required=True)
    interpreter_used = flag()

    @validates_schema
    def _consented(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "ConsentedToInterview" not in data.get("items", []):
            raise ValidationError(
                {"items": [N_("Consent cannot be recorded unless the person consented or assented.")]}
            )


class WithdrawConsentSchema(FormSchema):
    version = version()
    withdrawn_on = day(required=True)
    reason = text(2000)


class ReferralSchema(FormSchema):
    version = version()
    direction = code(process.REFERRAL_DIRECTION, required=True)
    organisation = text(120, required=True)
    organisation_type = code(htcds.ORGANISATION_TYPE, required=True)
    referred_on = day(required=True)
    reason = code(htcds.REFERRAL_REASON, required=True)
    case_worker = text(120)
    details = text(4000)
