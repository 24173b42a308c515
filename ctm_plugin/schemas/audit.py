"""The mission-wide audit trail's filters: who, from and to which day, which action, and where a
page starts (keyset paging). Every value is bounded as the column it is compared with."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate, validates_schema

from ctm_plugin.i18n import N_
from ctm_plugin.security.audit_actions import ACTIONS

from .base import _CHOICE, NOT_IN_LIST, FormSchema, day, number, text

USERNAME_LENGTH = 80
"""As ``ctm_audit_event.username``."""
NOT_A_PAGE = N_("This page of the audit trail does not exist: start again from the first page.")


class TrailFilterSchema(FormSchema):
    """What the auditor asks of the trail; all optional. ``before`` is the id the next page starts below."""

    username = text(USERNAME_LENGTH)
    from_on = day(anytime=True, after_birth=False)
    to_on = day(anytime=True, after_birth=False)
    action = fields.String(validate=validate.OneOf(tuple(ACTIONS), error=NOT_IN_LIST), error_messages=_CHOICE)
    before = number(1, 2**31 - 1, NOT_A_PAGE)

    @validates_schema
    def _order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "from_on", "to_on")
