"""A mission's CTM settings: how to reach the host's SOAP services, and case numbering."""

import ipaddress
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ctm_plugin.i18n import N_
from ctm_plugin.mappings.engine import MappingError, effective_mappings
from ctm_plugin.schemas.base import NOT_IN_IDENTIFIER

CASE_PREFIX_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,11}\Z"
MAX_OVERRIDES = 65_536
"""Characters of a mission's override document: the default mappings together are a few kilobytes."""


def _encrypted_unless_loopback(url: str) -> None:
    """Victims' data and the WS-Security digest never cross a network in clear text."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return  # https, or not an address at all (the field says so itself)
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if not loopback:
        raise ValidationError(N_("Use https: only a host on this machine may be reached over plain http."))


def _printable(value: str) -> None:
    """An identifier or a credential goes into every request's WS-Security header: XML cannot carry
    control characters, and a value no one can type is a mistake, not a password."""
    if NOT_IN_IDENTIFIER.search(value):
        raise ValidationError(N_("Remove the control characters from this value."))


def _mappings_that_load(text: str) -> None:
    """A bad override is refused here, so the mappings in force stay in force."""
    try:
        effective_mappings(text)
    except MappingError as error:
        raise ValidationError([str(problem) for problem in error.problems]) from None


class MissionSettingsSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    soap_base_url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=[
            validate.Length(max=400, error=N_("Enter at most 400 characters.")),
            _printable,
            _encrypted_unless_loopback,
        ],
        metadata={
            "label": N_("Host SOAP base URL"),
            "description": N_("The address the host's SOAP services live under, e.g. https://mimosa.example/"),
        },
        error_messages={
            "invalid": N_("Enter a full http or https address."),
            "required": N_("This field is required."),
        },
    )
    soap_username = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=80, error=N_("Enter between 1 and 80 characters.")), _printable],
        metadata={"label": N_("SOAP API user")},
        error_messages={"required": N_("This field is required.")},
    )
    soap_password = fields.String(
        required=True,
        # The host issued it: any length it chose up to the column's, no rule of the CTM's own.
        validate=[validate.Length(min=1, max=200, error=N_("Enter between 1 and 200 characters.")), _printable],
        metadata={"label": N_("SOAP API password"), "secret": True},
        error_messages={"required": N_("This field is required.")},
    )
    case_number_prefix = fields.String(
        load_default="CT",
        validate=validate.Regexp(
            CASE_PREFIX_PATTERN,
            error=N_("Use 1 to 12 capital letters, digits or hyphens, starting with a letter or digit."),
        ),
        metadata={
            "label": N_("Case number prefix"),
            "description": N_("Case numbers in this mission start with it, e.g. CT-2026-00042."),
        },
    )
    mapping_overrides = fields.String(
        validate=[
            validate.Length(max=MAX_OVERRIDES, error=N_("Enter at most 65,536 characters.")),
            _mappings_that_load,
        ],
        metadata={
            "label": N_("Mapping overrides"),
            "description": N_(
                "TOML: fields of the default mappings this mission maps differently (docs/integrators.md)."
            ),
            "multiline": True,
        },
    )
