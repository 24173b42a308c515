"""Finding a person in the host, and registering one in the CTM first, to be created in the host."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ctm_plugin.codelists import geo, htcds, process
from ctm_plugin.i18n import N_

from .base import FormSchema, code, codes, day, text, version

SEARCH_FIELDS = ("family_name", "given_name", "birth_date", "document_number")


class HostSearchSchema(FormSchema):
    family_name = text(120)
    given_name = text(120)
    birth_date = day(after_birth=False)  # type: ignore[assignment]  # a marshmallow field, not FormSchema.birth_date
    document_number = text(40)

    @validates_schema
    def _something_to_look_for(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(data.get(name) for name in SEARCH_FIELDS):
            raise ValidationError({"family_name": [N_("Give a name, a birth date or a document number.")]})


class RegisterPersonSchema(FormSchema):
    """A person the host does not know yet; the names leave with the request to the host and stay there."""

    family_name = text(120, required=True)
    given_name = text(120, required=True)
    middle_name = text(120)
    gender = code(htcds.GENDER, required=True)
    birth_date = day(after_birth=False, precision="birth_date_precision")  # type: ignore[assignment]  # a marshmallow field, not FormSchema.birth_date
    birth_date_precision = code(process.DATE_PRECISION)
    nationality = code(geo.COUNTRY)
    languages = codes(geo.LANGUAGE)
    opened_on = day(required=True, after_birth=False)
    consent_given_on = day(required=True, after_birth=False)
    consent_method = code(process.CONSENT_METHOD, required=True)


class PushSchema(FormSchema):
    """Sending the CTM's fields to the host; ``keep=ours`` answers a conflict the user has seen."""

    version = version()
    keep = fields.String(validate=validate.OneOf(["ours"], error=N_("Choose a value from the list.")))


class LinkToHostSchema(FormSchema):
    """A host beneficiary of this mission (found with Find a person), for a case that stands on no host record."""

    version = version()
    beneficiary_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^BEN-[0-9]{7,16}\Z", error=N_("Enter the host's beneficiary ID, e.g. BEN-0000123.")),
        error_messages={"required": N_("This field is required.")},
    )
