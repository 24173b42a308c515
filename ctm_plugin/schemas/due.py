"""Schemas of what is due: a follow-up, a referral's answer, a screening flag dismissed."""

from __future__ import annotations

from ctm_plugin.codelists.process import REFERRAL_ANSWER

from .base import FormSchema, code, day, text, version


class FollowUpSchema(FormSchema):
    version = version()
    due_on = day(required=True, anytime=True)
    owner = text(80)
    """A username; blank: the signed-in user."""
    note = text(2000, required=True)


class VersionOnlySchema(FormSchema):
    """A form that only confirms an action on the record it was read at (mark done)."""

    version = version()


class ReferralAnswerSchema(FormSchema):
    version = version()
    status = code(REFERRAL_ANSWER, required=True)
    answered_on = day(required=True)


class DismissCandidateSchema(FormSchema):
    version = version()
    reason = text(2000, required=True)
