"""The return-booking form: only what the host needs to book travel, nothing of the case."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load, validate

from ctm_plugin.codelists import geo
from ctm_plugin.i18n import N_

from .base import _BASIC, FormSchema, code, day, flag, version
from .mission_settings import PROJECT_CODE_MAX

ESCORTS = ("NONE", "OPERATIONAL", "MEDICAL", "CHILD")
ESCORT_LABELS = {
    "NONE": N_("No escort"),
    "OPERATIONAL": N_("Operational escort"),
    "MEDICAL": N_("Medical escort"),
    "CHILD": N_("Child escort"),
}
NOT_AN_AIRPORT = N_("Enter a three-letter IATA airport code, e.g. BKK.")


def airport(*, required: bool = True) -> fields.String:
    return fields.String(
        required=required,
        validate=validate.Regexp(r"^[A-Z]{3}\Z", error=NOT_AN_AIRPORT),
        error_messages={**_BASIC, "invalid": NOT_AN_AIRPORT},
    )


NOT_A_PROJECT = N_("Choose one of the mission's project codes.")


class ReturnBookingSchema(FormSchema):
    """The booking form; that ``project_code`` is one of the mission's is the service's check."""

    version = version()
    project_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=PROJECT_CODE_MAX, error=NOT_A_PROJECT),
        error_messages={**_BASIC, "invalid": NOT_A_PROJECT},
    )
    origin_country = code(geo.COUNTRY, required=True)
    origin_location = airport()
    destination_country = code(geo.COUNTRY, required=True)
    destination_location = airport()
    earliest_departure = day(required=True, after_birth=False, future=True)
    escort = fields.String(
        load_default="NONE",
        validate=validate.OneOf(ESCORTS, error=N_("Choose a value from the list.")),
        error_messages={**_BASIC, "invalid": N_("Choose a value from the list.")},
    )
    fit_to_travel = flag()

    @pre_load
    def _airports_in_capitals(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for name in ("origin_location", "destination_location"):
                if isinstance(data.get(name), str):
                    data[name] = data[name].strip().upper()
        return data


CANCEL_REASONS = {
    "BENEFICIARY_WITHDREW": N_("The person withdrew"),
    "NOT_FIT_TO_TRAVEL": N_("Not fit to travel"),
    "DOCUMENTS": N_("Travel documents"),
    "SECURITY": N_("Security"),
    "OTHER": N_("Other reason"),
}
"""The host's ``CancelMovement`` reasons (HOST_CONTRACT.md), in the contract's order."""


class CancelReturnSchema(FormSchema):
    """Cancelling a return: one of the contract's reasons, nothing else goes to the host."""

    version = version()
    reason = fields.String(
        required=True,
        validate=validate.OneOf(tuple(CANCEL_REASONS), error=N_("Choose a value from the list.")),
        error_messages={**_BASIC, "invalid": N_("Choose a value from the list.")},
    )
