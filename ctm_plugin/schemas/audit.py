"""The mission-wide audit trail's filters: who, from and to which day, which action, and where a
page starts (keyset paging). Every value is bounded as the column it is compared with."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ctm_plugin.i18n import N_
from ctm_plugin.security.audit_actions import ACTIONS

from .base import _CHOICE, NOT_IN_LIST, FormSchema, day, number, text

USERNAME_LENGTH = 80
"""As ``ctm_audit_event.username``."""
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
"""The days a filter may name: a mission's day beyond them is no moment a timestamp can hold in UTC."""
OUT_OF_RANGE = N_("Enter a day between 1900 and 2999.")
NOT_A_PAGE = N_("This page of the audit trail does not exist: start again from the first page.")


class TrailFilterSchema(FormSchema):
    """What the auditor asks of the trail; all optional. ``before`` is the id the next page starts below."""

    username = text(USERNAME_LENGTH)
    from_on = day(anytime=True, after_birth=False)
    to_on = day(anytime=True, after_birth=False)
    action = fields.String(validate=validate.OneOf(tuple(ACTIONS), error=NOT_IN_LIST), error_messages=_CHOICE)
    before = number(1, 2**31 - 1, NOT_A_PAGE)

    @validates_schema
    def _days(self, data: dict[str, Any], **_kwargs: Any) -> None:
        wrong = {
            name: [OUT_OF_RANGE] for name in ("from_on", "to_on") if not EARLIEST <= data.get(name, EARLIEST) <= LATEST
        }
        if wrong:
            raise ValidationError(wrong)
        self.check_order(data, "from_on", "to_on")
