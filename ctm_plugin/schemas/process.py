"""Schemas for the trafficking process: events and perpetrators."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema
from marshmallow.types import ErrorMessages

from ctm_plugin.codelists import geo, htcds, process
from ctm_plugin.i18n import N_

from .base import FormSchema, code, codes, day, decimal, text, version

_EVENTS_OF_THIS_CASE: ErrorMessages = dict.fromkeys(("invalid", "null", "too_large"), N_("Choose events of this case."))


class EventSchema(FormSchema):
    version = version()
    type = code(process.EVENT_TYPE, required=True)
    country = code(geo.COUNTRY)
    locality = text(120)
    latitude = decimal(-90, 90, N_("Enter a latitude from -90 to 90."))
    longitude = decimal(-180, 180, N_("Enter a longitude from -180 to 180."))
    start_date = day(precision="start_precision")
    start_precision = code(process.DATE_PRECISION)
    end_date = day(precision="end_precision")
    end_precision = code(process.DATE_PRECISION)
    transport = code(process.TRANSPORT)
    documents = code(process.DOCUMENTS_USED)
    border_crossing = code(process.BORDER_CROSSING)
    exit_mode = code(process.EXIT_MODE)
    notes = text(4000)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "start_date", "end_date")
        if data.get("exit_mode") and data.get("type") != "Exit":
            raise ValidationError({"exit_mode": [N_("Only an exit event has a way out.")]})
        if data.get("type") == "Exit" and not data.get("exit_mode"):
            raise ValidationError({"exit_mode": [N_("Say how the person left or was identified.")]})
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            missing = "longitude" if data.get("longitude") is None else "latitude"
            raise ValidationError({missing: [N_("Give both coordinates or neither.")]})


class PerpetratorSchema(FormSchema):
    version = version()
    alias = text(120)
    roles = codes(htcds.PERPETRATOR_ROLE)
    sex = code(htcds.GENDER)
    nationality = code(geo.COUNTRY)
    relationship_to_victim = code(htcds.RECRUITER_RELATIONSHIP)
    event_ids = fields.List(
        fields.Integer(strict=False, error_messages=_EVENTS_OF_THIS_CASE),
        load_default=list,
        error_messages=_EVENTS_OF_THIS_CASE,
    )
    notes = text(4000)

    @validates_schema
    def _has_a_role(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("roles"):
            raise ValidationError({"roles": [N_("Choose at least one role in the process.")]})
