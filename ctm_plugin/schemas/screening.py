"""Schemas for a Palermo screening interview and a determination."""

from __future__ import annotations

from marshmallow import fields, validate

from ctm_plugin.codelists import geo, htcds, process
from ctm_plugin.i18n import N_

from .base import NOT_A_NUMBER, REQUIRED, FormSchema, code, codes, day, flag, number, text, version


class ScreeningSchema(FormSchema):
    version = version()
    interview_date = day(required=True)
    place = text(120, required=True)
    interviewer = text(120, required=True)
    interpreter = text(120)
    language = code(geo.LANGUAGE)
    age_at_act = number(0, 120, N_("Enter an age from 0 to 120."))
    believed_child = flag()
    acts = codes(process.PALERMO_ACT)
    means = codes(process.PALERMO_MEANS)
    purposes = codes(htcds.EXPLOITATION_TYPE)


class ScreeningCorrectionSchema(ScreeningSchema):
    """The whole screening again, and why it is corrected: the earlier one stays in the history."""

    reason = text(4000, required=True)


class DeterminationSchema(FormSchema):
    version = version()
    decision = code(process.DETERMINATION, required=True)
    reason = text(4000, required=True)
    screening_id = fields.Integer(
        strict=False,
        load_default=None,
        # An id beyond the column's range would reach the database and fail there, not here.
        validate=validate.Range(min=1, max=2**31 - 1, error=N_("Choose a screening of this case.")),
        error_messages={"required": REQUIRED, "invalid": NOT_A_NUMBER},
    )
