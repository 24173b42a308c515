"""The Monitoring tab's forms: the monitoring start date and a visit (with its survey's answers).

A survey's answers are not fields of the schema, since the questions come from the mission's
scoring model: they are posted as ``answer_<indicator id>`` and checked against the model by the
service (``services/monitoring.py``), which reports their problems under those names too.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ctm_plugin.codelists.reintegration import RETRAFFICKING_RISK, VISIT_MODE
from ctm_plugin.domain.monitoring import MISSED, OUTCOMES
from ctm_plugin.i18n import N_

from .base import _CHOICE, NOT_IN_LIST, FormSchema, code, codes, day, number, text, version

ANSWER = "answer_"
"""The prefix of a survey answer's form field: ``answer_income``."""
NOTES_LENGTH = 4000
REASON_LENGTH = 2000
MAX_MONTH = 120
NOT_A_MONTH = N_("Choose a scheduled visit from the list.")
MISSED_NEEDS_REASON = N_("Say why the visit was missed.")


class MonitoringStartSchema(FormSchema):
    version = version()
    start_on = day(required=True, after_birth=False)


class VisitSchema(FormSchema):
    """A visit: on a day not in the future, by the user; a missed one keeps its reason."""

    version = version()
    visited_on = day(required=True, after_birth=False)
    schedule_month = number(1, MAX_MONTH, NOT_A_MONTH)
    mode = code(VISIT_MODE, required=True)
    outcome = fields.String(
        required=True, validate=validate.OneOf(tuple(OUTCOMES), error=NOT_IN_LIST), error_messages=_CHOICE
    )
    missed_reason = text(REASON_LENGTH)
    risks = codes(RETRAFFICKING_RISK)
    notes = text(NOTES_LENGTH)

    @validates_schema
    def _missed_has_its_reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("outcome") == MISSED and not data.get("missed_reason"):
            raise ValidationError({"missed_reason": [MISSED_NEEDS_REASON]})
