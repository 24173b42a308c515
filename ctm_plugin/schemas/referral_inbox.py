"""The caseworker's decision on a referral a partner sent (services/referral_inbox.py)."""

from __future__ import annotations

from marshmallow import fields, validate

from ctm_plugin.codelists import process
from ctm_plugin.i18n import N_

from .base import FormSchema, code, day, text

REASON_LENGTH = 1000
"""The reason travels back to the partner in ``GetReferralStatus``: a few sentences, no case file."""


class AcceptReferralSchema(FormSchema):
    """Accepting: into the case of a beneficiary this mission already has (``beneficiary_id``), or into a new case
    whose person is then found or registered in the host; with the organisation's own consent of the person."""

    beneficiary_id = fields.String(
        validate=validate.Regexp(r"^BEN-[0-9]{7,16}\Z", error=N_("Enter the host's beneficiary ID, e.g. BEN-0000123.")),
    )
    opened_on = day(required=True, after_birth=False)
    consent_given_on = day(required=True, after_birth=False)
    consent_method = code(process.CONSENT_METHOD, required=True)


class DeclineReferralSchema(FormSchema):
    reason = text(REASON_LENGTH, required=True)
